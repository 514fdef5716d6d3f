"""A concluded (archived) call takes no applications: its form page says so, a form sent to it is refused and
saves nothing, and its page offers no button to apply."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.calls import services as call_services
from scheduler.calls.models import Call, Comune
from scheduler.extensions import db
from scheduler.mailing.models import OutboxMessage
from scheduler.registry import services as registry
from scheduler.registry.models import Application, Organization
from tests.calls.test_successive_calls import NEXT_SLUG, load_next_call, text_of
from tests.factories import csrf_from
from tests.registry.test_application_form import form_data

CONCLUDED = "Questo avviso è concluso: non si accettano più candidature."
APPLY_BUTTON = "Presenta la manifestazione di interesse"


def archive(app, slug: str) -> None:
    with app.app_context():
        call_services.archive(call_services.call_by_slug(slug))
        db.session.commit()


def valid_form_for(app, slug: str) -> dict:
    """A complete application, with the comuni of that call (both calls have comuni of the same names)."""
    with app.app_context():
        comuni = list(db.session.scalars(
            sa.select(Comune.id).join(Call).where(Call.slug == slug, Comune.name.in_(("Crema", "Offanengo")))
        ))
    return form_data(app, comuni=comuni)


def main_of(page: str) -> str:
    """The page's own content (the navigation is the site's, the same on every page)."""
    return page[page.index("<main"):page.index("</main>")]


def rows(app) -> dict[str, int]:
    with app.app_context():
        return {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Organization, Application, OutboxMessage)}


def test_the_form_of_an_archived_call_says_it_is_concluded(app, client, crema):
    load_next_call(app)
    archive(app, NEXT_SLUG)
    response = client.get(f"/avvisi/{NEXT_SLUG}/candidatura")
    assert response.status_code == 200
    page = text_of(response)
    assert CONCLUDED in page
    assert "Piano di Zona 2028-2030" in page
    assert 'name="codice_fiscale"' not in page and "Invia la manifestazione di interesse" not in page
    # the current call's form is still there
    current = text_of(client.get("/candidatura"))
    assert 'name="codice_fiscale"' in current and CONCLUDED not in current


def test_an_application_sent_to_an_archived_call_is_refused_and_nothing_is_saved(app, client, crema):
    load_next_call(app)
    data = valid_form_for(app, NEXT_SLUG)
    data["csrf_token"] = csrf_from(client, f"/avvisi/{NEXT_SLUG}/candidatura")  # the form, still open
    archive(app, NEXT_SLUG)
    before = rows(app)
    response = client.post(f"/avvisi/{NEXT_SLUG}/candidatura", data=data)
    assert response.status_code == 409
    assert CONCLUDED in text_of(response)
    assert rows(app) == before == {"organizations": 0, "applications": 0, "outbox_messages": 0}


def test_the_same_application_is_taken_while_the_call_is_open(app, client, crema):
    """The counterpart of the refusal: the very form sent to the call before it is archived is saved."""
    load_next_call(app)
    data = valid_form_for(app, NEXT_SLUG)
    data["csrf_token"] = csrf_from(client, f"/avvisi/{NEXT_SLUG}/candidatura")
    response = client.post(f"/avvisi/{NEXT_SLUG}/candidatura", data=data)
    assert response.status_code == 302
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        assert application.call.slug == NEXT_SLUG


def test_paper_applications_are_refused_too(app, crema):
    """The rule is the service's: staff typing a paper form into an archived call are refused as well."""
    load_next_call(app)
    archive(app, NEXT_SLUG)
    with app.app_context():
        call = call_services.call_by_slug(NEXT_SLUG)
        try:
            # refused before what the form says is read
            registry.submit_application(call, None, on_paper=True)  # type: ignore[arg-type]
        except registry.RegistryError as error:
            assert error.code == "closed" and error.status == 409
            assert error.message == CONCLUDED
        else:
            raise AssertionError("an application to an archived call was accepted")
        db.session.rollback()
    assert rows(app)["applications"] == 0


def test_the_page_of_an_archived_call_offers_no_button_to_apply(app, client, crema):
    load_next_call(app)
    archive(app, NEXT_SLUG)
    page = main_of(text_of(client.get(f"/avvisi/{NEXT_SLUG}")))
    assert "Piano di Zona 2028-2030" in page
    assert CONCLUDED in page
    assert APPLY_BUTTON not in page
    assert f'href="/avvisi/{NEXT_SLUG}/candidatura"' not in page
    assert "Si può ancora presentare la candidatura" not in page
    # the current call's home page keeps its button, and lists the archived call among the concluded ones
    home = main_of(text_of(client.get("/")))
    assert APPLY_BUTTON in home and 'href="/candidatura"' in home and CONCLUDED not in home
    assert "Avvisi conclusi" in home and f'href="/avvisi/{NEXT_SLUG}"' in home


def test_the_home_page_showing_an_archived_call_offers_no_button_to_apply(app, client, crema):
    """No call is current (the short addresses then show the newest call): an archived one shows no button."""
    load_next_call(app)
    with app.app_context():
        db.session.execute(sa.update(Call).values(is_current=False))
        db.session.commit()
    archive(app, NEXT_SLUG)
    home = main_of(text_of(client.get("/")))
    assert "Piano di Zona 2028-2030" in home
    assert CONCLUDED in home and APPLY_BUTTON not in home and 'href="/candidatura"' not in home
    data = valid_form_for(app, NEXT_SLUG)
    data["csrf_token"] = csrf_from(client, "/accedi")
    refused = client.post("/candidatura", data=data)
    assert refused.status_code == 409 and CONCLUDED in text_of(refused)
    assert rows(app)["applications"] == 0
