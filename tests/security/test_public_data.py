"""What anyone can read (pages, open data, public feeds) names entities, never people: no contact person, no
e-mail address of an entity or of the office's staff, nobody who said they would come or who came."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.extensions import db
from scheduler.registry.models import Contact
from tests.security.conftest import FACILITATOR_EMAIL, OTHER_FACILITATOR_EMAIL, STAFF_EMAIL
from tests.security.route_matrix import MATRIX
from tests.security.test_route_matrix import routes, url_of

#: Open to anyone who has the secret in the URL, and about that person only.
BY_SECRET = {"calendar.feed_private", "auth.link", "calendar.rsvp_by_link", "registry.confirm_delegate"}


def test_public_answers_name_no_person(app, client, world):
    with app.app_context():
        contacts = list(db.session.execute(sa.select(Contact.full_name, Contact.email)))
    personal = {value for row in contacts for value in row if value}
    personal |= {world.entity["email"], world.other_entity["email"], STAFF_EMAIL, FACILITATOR_EMAIL,
                 OTHER_FACILITATOR_EMAIL, "Giulia Verdi", "Marco Gialli"}
    public = [endpoint for endpoint, method in routes(app)
              if method == "GET" and MATRIX.get((endpoint, method), (None,))[0] == 200 and endpoint not in BY_SECRET]
    assert len(public) > 10
    leaks = []
    for endpoint in public:
        url = url_of(app, world, endpoint)
        body = client.get(url).get_data(as_text=True)
        leaks += [f"{url}: {value}" for value in personal if value in body]
    assert not leaks, "personal data in public answers:\n" + "\n".join(leaks)
    # the entities themselves are public (the register is)
    assert "Associazione Uno" in client.get("/elenco").get_data(as_text=True)
