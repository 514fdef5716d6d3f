"""Who may do what: the expected answer of every route of the app to every role.

One row per (endpoint, method) of `app.url_map`; the columns are the roles of `ROLES`:

    anonymous          not signed in
    entity             entity 1, owner of the objects in the URL (its application, its RSVP, its feed)
    other_entity       entity 2, admitted for another area: none of the objects is its own
    other_facilitator  facilitator of another track (meeting B's)
    facilitator        facilitator of track A, the track of the meeting in the URL
    staff              the Ufficio di Piano

A cell is the status code the probe gets, or LOGIN for a redirect to the sign-in page. GET rows are probed
with a GET; POST rows with a POST carrying a valid CSRF token and the body of PROBE_DATA, so that a missing
access check would change data (the test checks it does not, for every refused cell).

A route added to the app without rows here fails `test_every_route_has_a_row`, naming it.
"""

from __future__ import annotations

#: Routes with nothing to check here: files served as they are.
EXCLUDED = frozenset({"static", "site.assets"})

LOGIN = "sign-in"

#: Cells that mean "refused": the test checks that the probe changed nothing in the database.
REFUSED = frozenset({LOGIN, 403, 404})


#: URL parameters filled from the world (see conftest.World), by name; (endpoint, name) wins over name.
PARAMETERS = {
    "meeting_id": "world:meeting",
    "track_id": "world:track",
    "venue_id": "world:venue",
    "application_id": "world:application",
    "organization_id": "world:organization",
    "message_id": "world:message",
    "sheet_id": "world:sheet",
    "announcement_id": "world:announcement",
    "contact_id": "world:contact",
    "call_id": "world:call",
    "call_slug": "world:call_slug",
    "document_id": "world:document",
    ("registry.confirm_participation", "slug"): "world:call_slug",
    "agreement_id": "world:agreement",
    "adhesion_id": "world:adhesion",
    ("mailing.unsubscribe", "token"): "world:unsubscribe_token",
    ("reports.write_to_absent", "meeting_id"): "world:past_meeting",
    ("attendance.paper_register", "meeting_id"): "world:past_meeting",
    ("calendar.feed_area", "code"): "A",
    ("calendar.feed_private", "token"): "world:feed_token",
    ("auth.link", "token"): "world:login_token",
    ("calendar.rsvp_by_link", "token"): "world:answer_token",
    ("registry.confirm_delegate", "token"): "world:delegate_token",
    ("auth.use_link", "token"): "not-a-real-token",
    # a real reset link would sign the prober in with a new password: every role gets the refusal page
    ("auth.reset_password", "token"): "not-a-real-token",
    ("attendance.by_code", "code"): "world:checkin_code",
    ("attendance.confirm_code", "code"): "world:checkin_code",
    ("reports.export_csv", "section"): "enti",
    ("site.vendor", "name"): "barcode-detector.js",
    ("reports.export_xlsx", "section"): "tutto",
}

#: Bodies of the POST probes (a CSRF token is added): what a real request would send, so that a route whose
#: access check were missing would act on it.
PROBE_DATA = {
    "auth.login": {"email": "staff@example.org", "password": "password-sbagliata"},
    "auth.request_link": {"email": "nessuno@example.org"},
    "auth.forgot_password": {"email": "nessuno@example.org"},
    "auth.reset_password": {"password": "una-password-nuova-lunga", "confirmation": "una-password-nuova-lunga"},
    "site.set_language": {"lang": "it", "next": "/"},
    "auth.choose_entity": {"organization": "world:organization", "next": "/area-riservata"},
    "registry.answer_request": {"answer": "Ecco i documenti richiesti."},
    "registry.review_reject": {"reason": "Non è un ente del Terzo Settore."},
    "registry.review_ask_information": {"message": "Inviate lo statuto."},
    "calendar.rsvp": {"attending": "no"},
    "calendar.rsvp_by_link": {"person_name": "Senza scelta"},
    "registry.review_public_change": {"action": "accept"},
    "registry.review_amendment": {"action": "accept"},
    "registry.review_correct_address": {"email": "corretto@example.org"},
    "registry.correct_address": {"email": "corretto@example.org"},
    "calendar.manage_meeting": {"day": "2099-01-01", "start": "09:00", "end": "10:00"},
    "calendar.manage_new_meeting": {"day": "2099-01-01", "start": "09:00", "end": "10:00"},
    "calendar.manage_cancel_meeting": {"reason": "La sala non è disponibile."},
    "site.invite_entities": {"from_call": "world:call"},
    "attendance.publish_minutes": {"minutes": "Verbale dell'incontro."},
    "calendar.manage_add_document": {"title": "Documento senza file", "visibility": "public"},
    "calendar.manage_restore_meeting": {"day": "2099-01-02", "start": "09:00", "end": "10:00"},
    "calendar.manage_new_table": {"name": "Tavolo nuovo", "areas": "world:area", "phase": "implementation"},
    "calendar.manage_table": {"name": "Tavolo cambiato", "areas": "world:area", "phase": "drafting"},
    "calendar.manage_series": {"first_day": "2099-01-05", "last_day": "2099-02-28", "frequency": "weekly",
                               "start": "09:30", "end": "12:30", "azione": "crea"},
    "calendar.manage_new_venue": {"name": "Sala nuova", "address": "Via Nuova 1"},
    "calendar.manage_venue": {"name": "Sala cambiata", "address": "Via Cambiata 1"},
    "calendar.manage_facilitators": {"azione": "crea", "email": "nuovo@example.org", "full_name": "Nuovo"},
    "reports.write_to_absent": {"subject": "Assenti", "text": "Ci siete mancati."},
    "attendance.mark": {"kind": "individual", "person_name": "Persona Nuova"},
    "attendance.undo": {"attendance_id": "world:attendance"},
    "attendance.notes": {"notes": "Note del registro."},
    "attendance.departures": {"on": "1"},
    "attendance.depart": {"attendance_id": "world:attendance"},
    "attendance.enter_code": {"code": "world:checkin_code"},
    "attendance.confirm_code": {"person_name": "Giulia Verdi"},
    "attendance.paper_register": {"ente-world:organization": "on", "persone-world:organization": "Mario Rossi"},
    "announcements.new": {"audience": "admitted", "subject": "Nuovo avviso", "body": "Testo"},
    "announcements.edit": {"audience": "admitted", "subject": "Avviso cambiato", "body": "Testo"},
    "announcements.schedule": {"day": "2099-01-01", "time": "09:00"},
    "announcements.venue_notice": {"venue_id": "world:venue", "audience": "meeting_invited", "action": "send",
                                   "subject": "Sede", "body": "La sede è {sede}."},
    "registry.contacts_page": {"full_name": "Persona Nuova", "email": "nuova@example.org"},
    "registry.mail_preferences": {"wanted": "reminders:nessuno@example.org"},
    "agreements.new": {"title": "Accordo nuovo", "closes_on": "2099-06-30"},
    "agreements.edit": {"title": "Accordo cambiato", "closes_on": "2099-06-30"},
    "agreements.annul": {"reason": "Firmata da chi non poteva."},
    "agreements.adhere": {"signatory_name": "Giulia Verdi", "signatory_role": "Presidente", "declaration": "y"},
}

#: POST probes that change the signed-in state or the objects the others use: probed last, in this order.
LAST = ("agreements.annul", "registry.remove_contact", "announcements.delete", "attendance.close",
        "attendance.reopen",
        # the table's form sets its facilitators: the probe leaves track A without its facilitator
        "calendar.manage_table", "calendar.manage_remove_document", "calendar.manage_cancel_meeting",
        "registry.withdraw", "registry.request_erasure",
        "registry.review_erase", "auth.logout")

# fmt: off
MATRIX: dict[tuple[str, str], tuple] = {
    # (endpoint, method)                              anonym. entity other_e other_f facil.  staff
    # --- public pages, feeds and open data
    ("site.index", "GET"):                            (200,   200,   200,    200,    200,    200),
    ("site.vendor", "GET"):                           (200,   200,   200,    200,    200,    200),
    ("site.privacy", "GET"):                          (200,   200,   200,    200,    200,    200),
    ("site.health", "GET"):                           (200,   200,   200,    200,    200,    200),
    ("site.set_language", "POST"):                    (302,   302,   302,    302,    302,    302),
    ("calendar.public_calendar", "GET"):              (200,   200,   200,    200,    200,    200),
    ("calendar.meeting", "GET"):                      (200,   200,   200,    200,    200,    200),
    ("calendar.meeting_ics", "GET"):                  (200,   200,   200,    200,    200,    200),
    ("calendar.feed_all", "GET"):                     (200,   200,   200,    200,    200,    200),
    ("calendar.feed_area", "GET"):                    (200,   200,   200,    200,    200,    200),
    # the private feed is opened by calendar apps: the secret token in the URL is the access check
    ("calendar.feed_private", "GET"):                 (200,   200,   200,    200,    200,    200),
    ("registry.public_list", "GET"):                  (200,   200,   200,    200,    200,    200),
    ("registry.public_list_csv", "GET"):              (200,   200,   200,    200,    200,    200),
    ("registry.public_list_json", "GET"):             (200,   200,   200,    200,    200,    200),
    ("registry.apply", "GET"):                        (200,   200,   200,    200,    200,    200),
    ("registry.apply", "POST"):                       (400,   400,   400,    400,    400,    400),
    ("registry.applied", "GET"):                      (200,   200,   200,    200,    200,    200),
    # the application corrected is the one this browser's session sent: no probe's session sent one
    ("registry.correct_address", "POST"):             (404,   404,   404,    404,    404,    404),
    # --- signing in and out
    ("auth.login", "GET"):                            (200,   200,   200,    200,    200,    200),
    ("auth.login", "POST"):                           (401,   401,   401,    401,    401,    401),
    ("auth.request_link", "POST"):                    (200,   200,   200,    200,    200,    200),
    ("auth.link", "GET"):                             (200,   200,   200,    200,    200,    200),
    ("auth.use_link", "POST"):                        (400,   400,   400,    400,    400,    400),
    ("auth.forgot_password", "GET"):                  (200,   200,   200,    200,    200,    200),
    ("auth.forgot_password", "POST"):                 (200,   200,   200,    200,    200,    200),
    ("auth.reset_password", "GET"):                   (400,   400,   400,    400,    400,    400),
    ("auth.reset_password", "POST"):                  (400,   400,   400,    400,    400,    400),
    ("auth.logout", "POST"):                          (302,   302,   302,    302,    302,    302),
    # entity 1 chooses its own entity; entity 2 cannot choose entity 1's
    ("auth.choose_entity", "GET"):                    (LOGIN, 200,   200,    403,    403,    403),
    ("auth.choose_entity", "POST"):                   (LOGIN, 302,   404,    403,    403,    403),
    # --- the entity's own area: no id in the URL, always the signed-in entity's own application
    ("registry.confirm", "GET"):                      (LOGIN, 302,   404,    403,    403,    403),
    ("registry.my_area", "GET"):                      (LOGIN, 200,   200,    403,    403,    403),
    ("registry.edit_application", "GET"):             (LOGIN, 200,   200,    403,    403,    403),
    ("registry.edit_application", "POST"):            (LOGIN, 400,   400,    403,    403,    403),
    ("registry.answer_request", "POST"):              (LOGIN, 303,   303,    403,    403,    403),
    ("registry.withdraw", "POST"):                    (LOGIN, 302,   302,    403,    403,    403),
    ("registry.export_data", "GET"):                  (LOGIN, 200,   200,    403,    403,    403),
    ("registry.request_erasure", "POST"):             (LOGIN, 302,   302,    403,    403,    403),
    ("registry.regenerate_feed", "POST"):             (LOGIN, 302,   302,    403,    403,    403),
    # the entity's record and its downloads: always the signed-in entity's own (no entity id in the URL), for the
    # call the URL names; both entities applied to the world's call
    ("reports.entity_record", "GET"):                 (LOGIN, 200,   200,    403,    403,    403),
    ("reports.entity_certificate", "GET"):            (LOGIN, 200,   200,    403,    403,    403),
    ("reports.entity_attendance_csv", "GET"):         (LOGIN, 200,   200,    403,    403,    403),
    # the answer to a meeting of area A: entity 2 (area B) sees why it cannot answer, and is refused
    ("calendar.rsvp", "GET"):                         (LOGIN, 200,   200,    403,    403,    403),
    ("calendar.rsvp", "POST"):                        (LOGIN, 302,   403,    403,    403,    403),
    # the invitation's link answers for its entity whoever holds it, and nothing else (no choice made: 400)
    ("calendar.rsvp_by_link", "GET"):                 (200,   200,   200,    200,    200,    200),
    ("calendar.rsvp_by_link", "POST"):                (400,   400,   400,    400,    400,    400),
    # --- the register: staff and the facilitators of the meeting's track
    ("attendance.my_registers", "GET"):               (LOGIN, 403,   403,    200,    200,    200),
    # the register's service worker and manifest hold no data: public, so that updates reach signed-out phones
    ("attendance.service_worker", "GET"):             (200,   200,   200,    200,    200,    200),
    ("attendance.manifest", "GET"):                   (200,   200,   200,    200,    200,    200),
    ("attendance.register", "GET"):                   (LOGIN, 403,   403,    403,    200,    200),
    ("attendance.mark", "POST"):                      (LOGIN, 403,   403,    403,    303,    303),
    ("attendance.undo", "POST"):                      (LOGIN, 403,   403,    403,    303,    303),
    ("attendance.notes", "POST"):                     (LOGIN, 403,   403,    403,    303,    303),
    ("attendance.departures", "POST"):                (LOGIN, 403,   403,    403,    303,    303),
    ("attendance.depart", "POST"):                    (LOGIN, 403,   403,    403,    303,    303),
    ("attendance.close", "POST"):                     (LOGIN, 403,   403,    403,    303,    303),
    ("attendance.reopen", "POST"):                    (LOGIN, 403,   403,    403,    303,    303),
    ("attendance.enter_code", "POST"):                (LOGIN, 403,   403,    403,    303,    303),
    ("attendance.confirm_code", "POST"):              (LOGIN, 403,   403,    403,    303,    303),
    # the URL in the QR code: whoever opens it sees the code; only a taker sees the register
    ("attendance.by_code", "GET"):                    (200,   200,   200,    200,    200,    200),
    ("attendance.signin_sheet", "GET"):               (LOGIN, 403,   403,    403,    200,    200),
    # the minutes: a facilitator is sent back to the register while it is open
    ("attendance.minutes", "GET"):                    (LOGIN, 403,   403,    403,    303,    200),
    # --- the installation's administrators only (no Ambito's office: they create the Ambiti)
    ("platform.index", "GET"):                        (LOGIN, 403,   403,    403,    403,    403),
    ("platform.new_ambito", "GET"):                   (LOGIN, 403,   403,    403,    403,    403),
    ("platform.new_ambito", "POST"):                  (LOGIN, 403,   403,    403,    403,    403),
    # --- staff only
    ("site.dashboard", "GET"):                        (LOGIN, 403,   403,    403,    403,    200),
    ("site.ambito_settings", "GET"):                  (LOGIN, 403,   403,    403,    403,    200),
    ("site.ambito_settings", "POST"):                 (LOGIN, 403,   403,    403,    403,    303),
    ("attendance.documents_page", "GET"):             (LOGIN, 403,   403,    403,    403,    200),
    ("attendance.upload_signed_sheet", "POST"):       (LOGIN, 403,   403,    403,    403,    400),
    ("attendance.download_signed_sheet", "GET"):      (LOGIN, 403,   403,    403,    403,    200),
    ("attendance.paper_register", "GET"):             (LOGIN, 403,   403,    403,    403,    200),
    ("attendance.paper_register", "POST"):            (LOGIN, 403,   403,    403,    403,    303),
    ("calendar.manage", "GET"):                       (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_meeting", "GET"):               (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_meeting", "POST"):              (LOGIN, 403,   403,    403,    403,    303),
    ("calendar.manage_cancel_meeting", "POST"):       (LOGIN, 403,   403,    403,    403,    303),
    # restoring a meeting that is not cancelled: refused by the service, after the role check
    ("calendar.manage_restore_meeting", "POST"):      (LOGIN, 403,   403,    403,    403,    409),
    # a document for the admitted entities: every signed-in role of the call reads it, a visitor finds nothing
    ("calendar.meeting_document", "GET"):             (404,   200,   200,    200,    200,    200),
    # a document with no file: refused next to the field, after the role check
    ("calendar.manage_add_document", "POST"):         (LOGIN, 403,   403,    403,    403,    400),
    ("calendar.manage_remove_document", "POST"):      (LOGIN, 403,   403,    403,    403,    303),
    # the register of the world's meeting is open: refused by the service, after the role check
    ("attendance.publish_minutes", "POST"):           (LOGIN, 403,   403,    403,    403,    409),
    ("site.manage_calls", "GET"):                     (LOGIN, 403,   403,    403,    403,    200),
    ("site.make_current_call", "POST"):               (LOGIN, 403,   403,    403,    403,    303),
    # the current call is not archived: refused by the service, after the role check
    ("site.archive_call", "POST"):                    (LOGIN, 403,   403,    403,    403,    409),
    ("site.reopen_call", "POST"):                     (LOGIN, 403,   403,    403,    403,    303),
    # inviting a call's own entities into itself: refused next to the choice, after the role check
    ("site.invite_entities", "POST"):                 (LOGIN, 403,   403,    403,    403,    400),
    # an entity with no invitation to confirm finds nothing
    ("registry.confirm_participation", "GET"):        (LOGIN, 404,   404,    403,    403,    403),
    ("registry.confirm_participation", "POST"):       (LOGIN, 404,   404,    403,    403,    403),
    ("calendar.manage_new_table", "GET"):             (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_new_table", "POST"):            (LOGIN, 403,   403,    403,    403,    303),
    ("calendar.manage_table", "GET"):                 (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_table", "POST"):                (LOGIN, 403,   403,    403,    403,    303),
    # closing a table with meetings to come: refused by the service, after the role check
    ("calendar.manage_close_table", "POST"):          (LOGIN, 403,   403,    403,    403,    409),
    ("calendar.manage_reopen_table", "POST"):         (LOGIN, 403,   403,    403,    403,    303),
    ("calendar.manage_series", "GET"):                (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_series", "POST"):               (LOGIN, 403,   403,    403,    403,    303),
    ("calendar.manage_new_meeting", "GET"):           (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_new_meeting", "POST"):          (LOGIN, 403,   403,    403,    403,    303),
    ("calendar.manage_facilitators", "GET"):          (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_facilitators", "POST"):         (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_venues", "GET"):                (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_venue", "GET"):                 (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_venue", "POST"):                (LOGIN, 403,   403,    403,    403,    303),
    ("calendar.manage_new_venue", "GET"):             (LOGIN, 403,   403,    403,    403,    200),
    ("calendar.manage_new_venue", "POST"):            (LOGIN, 403,   403,    403,    403,    303),
    ("registry.review_list", "GET"):                  (LOGIN, 403,   403,    403,    403,    200),
    ("registry.review_detail", "GET"):                (LOGIN, 403,   403,    403,    403,    200),
    ("registry.review_admit", "POST"):                (LOGIN, 403,   403,    403,    403,    409),
    ("registry.review_public_change", "POST"):        (LOGIN, 403,   403,    403,    403,    409),
    # the world's admitted application asked for no addition: nothing to accept
    ("registry.review_amendment", "POST"):            (LOGIN, 403,   403,    403,    403,    409),
    ("registry.review_reject", "POST"):               (LOGIN, 403,   403,    403,    403,    303),
    ("registry.review_ask_information", "POST"):      (LOGIN, 403,   403,    403,    403,    303),
    ("registry.review_erase", "POST"):                (LOGIN, 403,   403,    403,    403,    409),
    # the world's application is confirmed: its address is no longer corrected from the review
    ("registry.review_correct_address", "POST"):      (LOGIN, 403,   403,    403,    403,    409),
    ("registry.review_paper", "GET"):                 (LOGIN, 403,   403,    403,    403,    200),
    ("registry.review_paper", "POST"):                (LOGIN, 403,   403,    403,    403,    400),
    ("reports.index", "GET"):                         (LOGIN, 403,   403,    403,    403,    200),
    ("reports.export_csv", "GET"):                    (LOGIN, 403,   403,    403,    403,    200),
    ("reports.export_xlsx", "GET"):                   (LOGIN, 403,   403,    403,    403,    200),
    ("reports.certificate", "GET"):                   (LOGIN, 403,   403,    403,    403,    200),
    ("reports.write_to_absent", "GET"):               (LOGIN, 403,   403,    403,    403,    200),
    ("reports.write_to_absent", "POST"):              (LOGIN, 403,   403,    403,    403,    303),
    ("mailing.outbox", "GET"):                        (LOGIN, 403,   403,    403,    403,    200),
    ("mailing.message", "GET"):                       (LOGIN, 403,   403,    403,    403,    200),
    ("mailing.message_eml", "GET"):                   (LOGIN, 403,   403,    403,    403,    200),
    ("mailing.retry", "POST"):                        (LOGIN, 403,   403,    403,    403,    302),
    # announcements: the draft is edited, scheduled, sent (so "back to draft" and "delete" are refused after)
    ("announcements.index", "GET"):                   (LOGIN, 403,   403,    403,    403,    200),
    ("announcements.new", "GET"):                     (LOGIN, 403,   403,    403,    403,    200),
    ("announcements.new", "POST"):                    (LOGIN, 403,   403,    403,    403,    303),
    ("announcements.detail", "GET"):                  (LOGIN, 403,   403,    403,    403,    200),
    ("announcements.preview_html", "GET"):            (LOGIN, 403,   403,    403,    403,    200),
    ("announcements.edit", "GET"):                    (LOGIN, 403,   403,    403,    403,    200),
    ("announcements.edit", "POST"):                   (LOGIN, 403,   403,    403,    403,    303),
    ("announcements.retry", "POST"):                  (LOGIN, 403,   403,    403,    403,    303),
    ("announcements.schedule", "POST"):               (LOGIN, 403,   403,    403,    403,    303),
    ("announcements.send_now", "POST"):               (LOGIN, 403,   403,    403,    403,    303),
    ("announcements.send_test", "POST"):              (LOGIN, 403,   403,    403,    403,    303),
    ("announcements.unschedule", "POST"):             (LOGIN, 403,   403,    403,    403,    409),
    ("announcements.delete", "POST"):                 (LOGIN, 403,   403,    403,    403,    409),
    ("announcements.venue_notice", "GET"):            (LOGIN, 403,   403,    403,    403,    200),
    ("announcements.venue_notice", "POST"):           (LOGIN, 403,   403,    403,    403,    303),
    # the entity's people and mail preferences: always its own; another entity's delegate is not found
    ("registry.contacts_page", "GET"):                (LOGIN, 200,   200,    403,    403,    403),
    ("registry.contacts_page", "POST"):               (LOGIN, 303,   303,    403,    403,    403),
    ("registry.resend_confirmation", "POST"):         (LOGIN, 303,   404,    403,    403,    403),
    ("registry.remove_contact", "POST"):              (LOGIN, 303,   404,    403,    403,    403),
    # the delegate's confirmation is the link's: whoever opens it confirms the address it was sent to
    ("registry.confirm_delegate", "GET"):             (200,   200,   200,    200,    200,    200),
    ("registry.confirm_delegate", "POST"):            (200,   200,   200,    200,    200,    200),
    ("registry.mail_preferences", "GET"):             (LOGIN, 200,   200,    403,    403,    403),
    ("registry.mail_preferences", "POST"):            (LOGIN, 303,   303,    403,    403,    403),
    # the unsubscribe link of optional mail: the signed token is the access check (one-click POST, RFC 8058)
    ("mailing.unsubscribe", "GET"):                   (200,   200,   200,    200,    200,    200),
    ("mailing.unsubscribe", "POST"):                  (200,   200,   200,    200,    200,    200),
    # --- the Accordo di Programma: staff's pages; the entity adheres from its area (entity 2 is not asked: 404).
    # The Accordo is open and entity 1 adhered: opening it again, reminding and deleting are refused by the service
    # (409), after the role check; a new Accordo without a PDF nor entities is sent back (400)
    ("agreements.index", "GET"):                      (LOGIN, 403,   403,    403,    403,    200),
    ("agreements.new", "GET"):                        (LOGIN, 403,   403,    403,    403,    200),
    ("agreements.new", "POST"):                       (LOGIN, 403,   403,    403,    403,    400),
    ("agreements.detail", "GET"):                     (LOGIN, 403,   403,    403,    403,    200),
    ("agreements.edit", "GET"):                       (LOGIN, 403,   403,    403,    403,    200),
    ("agreements.edit", "POST"):                      (LOGIN, 403,   403,    403,    403,    303),
    ("agreements.open_for_adhesion", "POST"):         (LOGIN, 403,   403,    403,    403,    409),
    ("agreements.remind", "POST"):                    (LOGIN, 403,   403,    403,    403,    409),
    ("agreements.delete", "POST"):                    (LOGIN, 403,   403,    403,    403,    409),
    ("agreements.document", "GET"):                   (LOGIN, 403,   403,    403,    403,    200),
    ("agreements.signed_copy", "GET"):                (LOGIN, 403,   403,    403,    403,    200),
    ("agreements.annul", "GET"):                      (LOGIN, 403,   403,    403,    403,    200),
    ("agreements.annul", "POST"):                     (LOGIN, 403,   403,    403,    403,    303),
    ("agreements.export_csv", "GET"):                 (LOGIN, 403,   403,    403,    403,    200),
    ("agreements.export_xlsx", "GET"):                (LOGIN, 403,   403,    403,    403,    200),
    # entity 1 adhered already (409); entity 2 was not asked (404, as for no Accordo at all)
    ("agreements.adhere", "GET"):                     (LOGIN, 200,   404,    403,    403,    403),
    ("agreements.adhere", "POST"):                    (LOGIN, 409,   404,    403,    403,    403),
    ("agreements.entity_document", "GET"):            (LOGIN, 200,   404,    403,    403,    403),
}
# fmt: on
