"""`flask demo`: clearly marked sample entities and future meetings, so the product can be tried today.

Everything made here is labelled as an example (names, the `is_sample` flag, example.org addresses) and
the command can run any number of times: it adds what is missing and moves past sample meetings forward.
"""

from __future__ import annotations

import os
from datetime import time, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from stdnum import luhn
from stdnum.it import iva
from werkzeug.security import check_password_hash

from scheduler.auth import services as auth
from scheduler.auth.models import Role, User
from scheduler.calendar.models import Meeting, Venue
from scheduler.calendar.planning import assign_facilitators
from scheduler.calendar.services import create_meeting, reschedule
from scheduler.calls.ambiti import ambito_by_slug
from scheduler.calls.loader import SAMPLE_KEY_PREFIX, ambito_from_file, load_call, parse_call_file
from scheduler.calls.models import Ambito, Area, Call, Comune, Phase, Track
from scheduler.calls.services import current_call
from scheduler.extensions import db
from scheduler.registry.models import (
    Application,
    ApplicationArea,
    ApplicationStatus,
    Contact,
    ContactKind,
    LegalForm,
    Organization,
)
from scheduler.timeutil import ROME, end_of_day, local_instant, utcnow

SAMPLE_MARK = "(esempio)"

#: name, legal form, areas, comuni, e-mail local part
SAMPLE_ORGANIZATIONS = [
    ("Associazione Il Ponte", LegalForm.APS, ["A", "D"], ["Crema", "Offanengo"], "ilponte"),
    ("Cooperativa sociale Filo d'Argento", LegalForm.SOCIAL_COOPERATIVE, ["B"], ["Crema", "Pandino", "Vailate"],
     "filodargento"),
    ("ODV Mani Aperte", LegalForm.ODV, ["C"], ["Castelleone", "Soncino"], "maniaperte"),
    ("Fondazione Comunità Cremasca", LegalForm.FOUNDATION, ["A", "B", "C", "D"], ["Crema"], "fondazione"),
    ("Rete Giovani in Rete", LegalForm.NETWORK, ["D"], ["Rivolta d'Adda", "Spino d'Adda"], "giovaniinrete"),
    ("Associazione Famiglie Insieme", LegalForm.UNRECOGNISED_ASSOCIATION, ["A"], ["Bagnolo Cremasco"],
     "famiglieinsieme"),
]

SAMPLE_VENUES = [
    ("Sala riunioni dell'Ufficio di Piano", "Piazza Duomo 25, Crema", "Crema",
     "Accesso senza barriere dall'ingresso principale; ascensore; servizi igienici accessibili."),
    ("Sala civica", "Via Roma 1, Pandino", "Pandino", "Piano terra, accesso senza gradini."),
]


#: The sample facilitator: e-mail and name. Its password is kept in FACILITATOR_KEY_FILE under instance/
#: (never committed), like the staff account's (bin/ensure-staff), so every run shows the same one.
SAMPLE_FACILITATOR = ("facilitatore@example.org", f"Chiara Verdi {SAMPLE_MARK}")
FACILITATOR_KEY_FILE = "demo-facilitator-password"

#: The second Ambito of the sample installation: its slug and host name (browsers send *.localhost to the machine
#: itself), its call file, its office account and the file keeping that account's password.
SAMPLE_AMBITO = ("esempio", "esempio.localhost")
SAMPLE_CALL_FILE = Path(__file__).parent / "calls" / "esempio-2027-2029.toml"
SAMPLE_AMBITO_STAFF = ("ufficio@esempio.example.org", f"Ufficio di Piano {SAMPLE_MARK}")
SAMPLE_AMBITO_KEY_FILE = "demo-second-ambito-password"


def sample_codice_fiscale(index: int) -> str:
    """A valid 11-digit codice fiscale (check digit included) in a range kept for examples."""
    base = f"9{index + 1:06d}019"  # 019: the Cremona office code
    return iva.validate(base + luhn.calc_check_digit(base))


def _ensure_tracks(call: Call) -> list[Track]:
    areas = {a.code: a for a in db.session.scalars(sa.select(Area).where(Area.call_id == call.id))}
    tracks = []
    for position, area in enumerate(sorted(areas.values(), key=lambda a: a.code), start=100):
        key = f"{SAMPLE_KEY_PREFIX}{area.code}-attuazione"
        track = db.session.scalar(sa.select(Track).where(Track.call_id == call.id, Track.key == key))
        if track is None:
            morning = area.code in ("A", "D")
            track = Track(
                call=call, area=area, key=key, phase=Phase.IMPLEMENTATION, position=position,
                name=f"Tavolo tematico {area.name} – attuazione",
                slot_start=time(9, 30) if morning else time(14, 30),
                slot_end=time(13, 0) if morning else time(18, 0),
                description="Tavolo della fase di attuazione, monitoraggio e valutazione.",
            )
            db.session.add(track)
        tracks.append(track)
    db.session.flush()
    return tracks


def _ensure_venues(call: Call) -> list[Venue]:
    venues = []
    for name, address, comune_name, notes in SAMPLE_VENUES:
        full_name = f"{name} {SAMPLE_MARK}"
        venue = db.session.scalar(sa.select(Venue).where(Venue.call_id == call.id, Venue.name == full_name))
        if venue is None:
            comune = db.session.scalar(
                sa.select(Comune).where(Comune.call_id == call.id, Comune.name == comune_name)
            )
            venue = Venue(call=call, name=full_name, address=address, comune=comune, accessibility_notes=notes,
                          capacity=40)
            db.session.add(venue)
        venues.append(venue)
    db.session.flush()
    return venues


def _ensure_meetings(tracks: list[Track], venues: list[Venue]) -> int:
    """Two future meetings per implementation track; past sample meetings are moved forward."""
    today = utcnow().astimezone(ROME).date()
    made = 0
    for index, track in enumerate(tracks):
        for number, weeks in enumerate((2, 6), start=1):
            day = today + timedelta(weeks=weeks, days=index)
            while day.weekday() >= 5:
                day += timedelta(days=1)
            starts_at = local_instant(day, track.slot_start or time(9, 30))
            ends_at = local_instant(day, track.slot_end or time(13, 0))
            key = f"esempio-{number}"
            meeting = db.session.scalar(sa.select(Meeting).where(Meeting.track_id == track.id, Meeting.key == key))
            if meeting is None:
                create_meeting(track, starts_at, ends_at, key=key, title=f"Incontro {number} del tavolo {SAMPLE_MARK}",
                               venue=venues[0] if number == 1 else None)
                made += 1
            elif meeting.ends_at < utcnow():
                reschedule(meeting, starts_at, ends_at)
    return made


def _ensure_organizations(call: Call) -> int:
    areas = {a.code: a for a in db.session.scalars(sa.select(Area).where(Area.call_id == call.id))}
    comuni = {c.name: c for c in db.session.scalars(sa.select(Comune).where(Comune.call_id == call.id))}
    made = 0
    for index, (name, form, area_codes, comune_names, local) in enumerate(SAMPLE_ORGANIZATIONS):
        cf = sample_codice_fiscale(index)
        if db.session.scalar(sa.select(Organization.id).where(Organization.codice_fiscale == cf)):
            continue
        email = f"{local}@example.org"
        org = Organization(
            name=f"{name} {SAMPLE_MARK}", legal_form=form, codice_fiscale=cf, is_sample=True,
            register="RUNTS", register_number=f"ES-{index + 1:04d}", registered_office="Crema (CR)",
            email=email, comuni=[comuni[c] for c in comune_names if c in comuni],
        )
        org.contacts.append(Contact(kind=ContactKind.LEGAL_REPRESENTATIVE, full_name="Maria Rossi (esempio)",
                                    role="Presidente", email=email))
        org.contacts.append(Contact(kind=ContactKind.CONTACT, full_name="Luca Bianchi (esempio)",
                                    role="Referente", email=email))
        application = Application(
            call=call, organization=org, protocol=f"ESEMPIO-{index + 1:04d}", wants_drafting=False,
            late=utcnow() > end_of_day(call.deadline),
            wants_implementation=True, status=ApplicationStatus.ADMITTED, email_confirmed_at=utcnow(),
            reviewed_at=utcnow(),
            areas=[ApplicationArea(area=areas[code], competence="Competenza di esempio.") for code in area_codes],
        )
        db.session.add_all([org, application, User(email=email, role=Role.ENTITY, organizations=[org],
                                                   full_name=f"{name} {SAMPLE_MARK}")])
        made += 1
    return made


def _kept_password(path: Path) -> str | None:
    """The password kept by an earlier run, if it is one the rules accept."""
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    try:
        auth.check_password_rules(password)
    except auth.AuthError:
        return None
    return password


def _keep_password(path: Path, password: str) -> None:
    """Written readable by its owner only: it opens an account."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(password + "\n")


def _sample_table(call: Call) -> Track | None:
    """The table the sample facilitator follows: the call's first open table of the implementation phase
    (the sample tables have coming meetings), else its first open table."""
    tracks = [t for t in db.session.scalars(
        sa.select(Track).where(Track.call_id == call.id).order_by(Track.position, Track.id)) if not t.is_closed]
    return next((t for t in tracks if t.phase is Phase.IMPLEMENTATION), tracks[0] if tracks else None)


def _ensure_account(email: str, role: Role, full_name: str, password_file: Path,
                    ambito: Ambito | None = None) -> tuple[User, str] | None:
    """A sample account with the kept password (the one shown must open it); None when the address belongs to an
    account of another role or Ambito (left as it is)."""
    kept = password = _kept_password(password_file)
    user = auth.find_user(email)
    if user is None:
        user, generated = auth.create_staff(email, role, password, full_name, ambito=ambito)
        password = password or generated
    elif user.role is not role or (ambito is not None and user.ambito_id != ambito.id):
        return None
    elif password is None or not user.password_hash or not check_password_hash(user.password_hash, password):
        # the kept password was lost or changed: the one shown must open the account
        password = password or auth.generate_password()
        auth.set_password(user, password)
    assert password is not None
    if password != kept:
        _keep_password(password_file, password)
    return user, password


def _ensure_facilitator(call: Call, password_file: Path) -> tuple[User, str, Track | None] | None:
    """The sample facilitator with the kept password, following one table of the call; None when the address
    belongs to an account of another role (left as it is)."""
    email, full_name = SAMPLE_FACILITATOR
    account = _ensure_account(email, Role.FACILITATOR, full_name, password_file, call.ambito)
    if account is None:
        return None
    user, password = account
    table = next((t for t in user.tracks if t.call_id == call.id), None)
    if table is None:
        table = _sample_table(call)
        if table is not None:
            assign_facilitators(table, {u.id for u in table.facilitators} | {user.id})
    return user, password, table


def _ensure_sample_ambito(password_file: Path) -> tuple[Ambito, User, str] | None:
    """A second Ambito, on its own host name, with its sample call and an office account: one installation
    serving two Ambiti, as a region's would. None when its slug or host is already another Ambito's."""
    slug, host = SAMPLE_AMBITO
    ambito = ambito_by_slug(slug)
    if ambito is None:
        if db.session.scalar(sa.select(Ambito.id).where(Ambito.host == host)) is not None:
            return None
        ambito = ambito_from_file(parse_call_file(SAMPLE_CALL_FILE), slug, host)
    elif ambito.host != host:
        return None
    if not ambito.calls:
        load_call(parse_call_file(SAMPLE_CALL_FILE), ambito)
    account = _ensure_account(SAMPLE_AMBITO_STAFF[0], Role.STAFF, SAMPLE_AMBITO_STAFF[1], password_file, ambito)
    return (ambito, *account) if account is not None else None


def _sign_in_address(host: str | None = None) -> str:
    """Where staff and facilitators sign in on the development server (`make run`'s HOST and PORT; `host`, an
    Ambito's own host name, in place of HOST)."""
    return f"http://{host or os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '5000'}/accedi"


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Add clearly marked sample entities and future meetings (safe to run again)."""
    call = current_call()
    if call is None:
        raise click.ClickException(
            "Nessun avviso caricato: esegui prima 'flask calls load scheduler/calls/crema-2025-2027.toml'."
        )
    tracks = _ensure_tracks(call)
    venues = _ensure_venues(call)
    meetings = _ensure_meetings(tracks, venues)
    organizations = _ensure_organizations(call)
    facilitator = _ensure_facilitator(call, Path(current_app.instance_path) / FACILITATOR_KEY_FILE)
    second = _ensure_sample_ambito(Path(current_app.instance_path) / SAMPLE_AMBITO_KEY_FILE)
    db.session.commit()
    where_mail = "" if current_app.config.get("MAIL_SERVER") else (
        f": senza MAIL_SERVER il messaggio con il collegamento è in {current_app.config['MAIL_FILE_DIR']}")
    click.echo(
        f"Dati di esempio: {organizations} enti e {meetings} incontri aggiunti "
        f"(gli enti di esempio accedono con il collegamento via e-mail, es. ilponte@example.org{where_mail})."
    )
    if second is None:
        click.echo(f"Ambito di esempio non creato: la sigla {SAMPLE_AMBITO[0]} o il nome host {SAMPLE_AMBITO[1]} "
                   f"o l'indirizzo {SAMPLE_AMBITO_STAFF[0]} sono già usati.")
    else:
        ambito, staff, staff_password = second
        click.echo(f"Secondo Ambito di esempio: {ambito.name}, su http://{ambito.host}:"
                   f"{os.environ.get('PORT') or '5000'}/ ; il suo ufficio: {staff.email} / {staff_password}  "
                   f"({_sign_in_address(ambito.host)})")
    if facilitator is None:
        click.echo(f"Facilitatore di esempio non creato: l'indirizzo {SAMPLE_FACILITATOR[0]} è di un altro utente.")
        return
    user, password, table = facilitator
    where = f", tavolo «{table.name}»" if table is not None else ""
    click.echo(f"Accesso del facilitatore di esempio: {user.email} / {password}  ({_sign_in_address()}){where}")
