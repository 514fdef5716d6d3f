"""Two Ambiti on one installation: what a request on the SECOND Ambito's host gets when its URL carries the
FIRST Ambito's ids and tokens (the `world` of conftest.py, filled in by route_matrix.PARAMETERS).

One row per (endpoint, method) of the route matrix; a row is (kind, reason):

    404       the URL names an object or token of the first Ambito: the app's 404 page, for every role that could
              act on such an object of its own Ambito; a role the route refuses anyway keeps its refusal
              (the sign-in page, 403)
    own       no object of the first Ambito in the URL: the page answers as on the first host (the route
              matrix's cell), and shows only the second Ambito's data (none of FIRST_MARKERS in the body); a
              POST writes nothing of the first Ambito
    shared    belongs to no Ambito (the reason says why): answers as on the first host
    platform  the installation's administration: Ambito staff and facilitators get 403 or 404

The probes are the second Ambito's staff and facilitator, a visitor, and entity 1 of the world (entities are
shared), each on the second host; their cells of the route matrix are those of `staff`, `facilitator`,
`anonymous` and `entity` (ANALOG). Every endpoint with an address under /avvisi/<slug> is probed there too with
the first Ambito's slug: 404 for everyone.

A route added to the app without a row here fails `test_every_route_has_an_isolation_row`, naming it.
"""

from __future__ import annotations

NOT_FOUND = "404"
OWN = "own"
SHARED = "shared"
PLATFORM = "platform"
KINDS = frozenset({NOT_FOUND, OWN, SHARED, PLATFORM})

#: The probing roles on the second host, and the column of the route matrix each stands for.
ANALOG = {"second_staff": "staff", "second_facilitator": "facilitator", "anonymous": "anonymous",
          "entity": "entity"}

#: Strings only the first Ambito's pages can show: its call's slug and Ambito, its entities, the people they
#: named, its venue, its document, its office's accounts.
FIRST_MARKERS = ("crema-2025-2027", "Ambito territoriale di Crema", "Associazione Uno", "Cooperativa Due",
                 "Associazione Tre", "Giulia Verdi", "Marco Gialli", "Delegata Uno", "Sala Pietro da Cemmo",
                 "Materiali riservati", "staff@example.org", "facilitatrice@example.org",
                 "facilitatore.altro@example.org")
#: What the signed-in entity reads about itself on any host (its name in the header, its own people).
OWN_MARKERS_OF_ENTITY = frozenset({"Associazione Uno", "Giulia Verdi", "Delegata Uno"})

#: Cells that differ from the route matrix's on the second host, by (endpoint, method, role), and why.
DIFFERENT = {
    # the probe's body names the first Ambito's area: refused next to the field, nothing written
    ("calendar.manage_new_table", "POST", "second_staff"): 400,
}

#: Pages that name the entity their token is of, whoever opens them (its private feed is called after it).
SPEAKS_OF_THE_ENTITY = frozenset({"calendar.feed_private"})
#: Calendar files: calendar apps show the body of a failed subscription, so their 404 is one line of plain text.
PLAIN_NOT_FOUND = frozenset({"calendar.meeting_ics", "calendar.feed_all", "calendar.feed_area",
                             "calendar.feed_private"})

# Entities and their accounts are the installation's, one each; what an entity does about its application (edit,
# withdraw, contacts, data...) is done on the host of the Ambito it applied to: here, where it has none, it is not
# found (its reserved area says it may apply to this Ambito).

# fmt: off
ISOLATION: dict[tuple[str, str], tuple[str, str]] = {
    # --- public pages, feeds and open data
    ("site.index", "GET"):                            (OWN, ""),
    ("site.ambito_settings", "GET"):                  (OWN, ""),
    ("site.ambito_settings", "POST"):                 (OWN, ""),
    ("site.vendor", "GET"):                           (SHARED, "a vendored script, the same file for every Ambito"),
    ("site.privacy", "GET"):                          (OWN, ""),
    ("site.health", "GET"):                           (SHARED, "the installation's health check: no data"),
    ("site.set_language", "POST"):                    (SHARED, "the browser's language choice"),
    ("calendar.public_calendar", "GET"):              (OWN, ""),
    ("calendar.meeting", "GET"):                      (NOT_FOUND, ""),
    ("calendar.meeting_ics", "GET"):                  (NOT_FOUND, ""),
    ("calendar.feed_all", "GET"):                     (OWN, ""),
    ("calendar.feed_area", "GET"):                    (OWN, ""),
    # the entity's private feed (its token is the entity's, shared): on this host, only this Ambito's meetings
    ("calendar.feed_private", "GET"):                 (OWN, ""),
    ("registry.public_list", "GET"):                  (OWN, ""),
    ("registry.public_list_csv", "GET"):              (OWN, ""),
    ("registry.public_list_json", "GET"):             (OWN, ""),
    ("registry.apply", "GET"):                        (OWN, ""),
    ("registry.apply", "POST"):                       (OWN, ""),
    ("registry.applied", "GET"):                      (OWN, ""),
    ("registry.correct_address", "POST"):             (OWN, ""),
    # --- signing in and out
    ("auth.login", "GET"):                            (SHARED, "the sign-in page: the same form on every host"),
    ("auth.login", "POST"):                           (SHARED, "refused as on any host; the form shows back the "
                                                               "address typed"),
    ("auth.request_link", "POST"):                    (SHARED, "entity accounts are the installation's"),
    ("auth.link", "GET"):                             (SHARED, "an entity account's sign-in link: the account is "
                                                               "the installation's"),
    ("auth.use_link", "POST"):                        (SHARED, "an entity account's sign-in link"),
    ("auth.forgot_password", "GET"):                  (SHARED, "the form asking for a reset link"),
    ("auth.forgot_password", "POST"):                 (SHARED, "answers the same whoever is asked about"),
    ("auth.reset_password", "GET"):                   (SHARED, "a reset link names an account, not an Ambito"),
    ("auth.reset_password", "POST"):                  (SHARED, "a reset link names an account, not an Ambito"),
    ("auth.logout", "POST"):                          (SHARED, "ends the browser's own session"),
    ("auth.choose_entity", "GET"):                    (SHARED, "the entities an account acts for"),
    ("auth.choose_entity", "POST"):                   (SHARED, "the entities an account acts for"),
    # --- the entity's own area
    ("registry.confirm", "GET"):                      (NOT_FOUND, ""),
    ("registry.my_area", "GET"):                      (OWN, ""),
    ("registry.edit_application", "GET"):             (NOT_FOUND, ""),
    ("registry.edit_application", "POST"):            (NOT_FOUND, ""),
    ("registry.answer_request", "POST"):              (NOT_FOUND, ""),
    ("registry.withdraw", "POST"):                    (NOT_FOUND, ""),
    ("registry.export_data", "GET"):                  (NOT_FOUND, ""),
    ("registry.request_erasure", "POST"):             (NOT_FOUND, ""),
    ("registry.regenerate_feed", "POST"):             (NOT_FOUND, ""),
    # the entity's record in this Ambito's calls (entity 1 has none here): no call of the first Ambito listed
    ("reports.entity_record", "GET"):                 (OWN, ""),
    # the record of the first Ambito's call, named by its slug
    ("reports.entity_certificate", "GET"):            (NOT_FOUND, ""),
    ("reports.entity_attendance_csv", "GET"):         (NOT_FOUND, ""),
    ("calendar.rsvp", "GET"):                         (NOT_FOUND, ""),
    ("calendar.rsvp", "POST"):                        (NOT_FOUND, ""),
    ("calendar.rsvp_by_link", "GET"):                 (NOT_FOUND, ""),
    ("calendar.rsvp_by_link", "POST"):                (NOT_FOUND, ""),
    # --- the register
    ("attendance.my_registers", "GET"):               (OWN, ""),
    ("attendance.service_worker", "GET"):             (SHARED, "the register's service worker: code, no data"),
    ("attendance.manifest", "GET"):                   (SHARED, "the register's web app manifest: no data"),
    ("attendance.register", "GET"):                   (NOT_FOUND, ""),
    ("attendance.mark", "POST"):                      (NOT_FOUND, ""),
    ("attendance.undo", "POST"):                      (NOT_FOUND, ""),
    ("attendance.notes", "POST"):                     (NOT_FOUND, ""),
    ("attendance.departures", "POST"):                (NOT_FOUND, ""),
    ("attendance.depart", "POST"):                    (NOT_FOUND, ""),
    ("attendance.close", "POST"):                     (NOT_FOUND, ""),
    ("attendance.reopen", "POST"):                    (NOT_FOUND, ""),
    ("attendance.enter_code", "POST"):                (NOT_FOUND, ""),
    ("attendance.confirm_code", "POST"):              (NOT_FOUND, ""),
    ("attendance.by_code", "GET"):                    (NOT_FOUND, ""),
    ("attendance.signin_sheet", "GET"):               (NOT_FOUND, ""),
    ("attendance.minutes", "GET"):                    (NOT_FOUND, ""),
    # --- the office
    ("site.dashboard", "GET"):                        (OWN, ""),
    ("attendance.documents_page", "GET"):             (NOT_FOUND, ""),
    ("attendance.upload_signed_sheet", "POST"):       (NOT_FOUND, ""),
    ("attendance.download_signed_sheet", "GET"):      (NOT_FOUND, ""),
    ("attendance.paper_register", "GET"):             (NOT_FOUND, ""),
    ("attendance.paper_register", "POST"):            (NOT_FOUND, ""),
    ("calendar.manage", "GET"):                       (OWN, ""),
    ("calendar.manage_meeting", "GET"):               (NOT_FOUND, ""),
    ("calendar.manage_meeting", "POST"):              (NOT_FOUND, ""),
    ("calendar.manage_cancel_meeting", "POST"):       (NOT_FOUND, ""),
    ("calendar.manage_restore_meeting", "POST"):      (NOT_FOUND, ""),
    ("calendar.meeting_document", "GET"):             (NOT_FOUND, ""),
    ("calendar.manage_add_document", "POST"):         (NOT_FOUND, ""),
    ("calendar.manage_remove_document", "POST"):      (NOT_FOUND, ""),
    ("attendance.publish_minutes", "POST"):           (NOT_FOUND, ""),
    ("site.manage_calls", "GET"):                     (OWN, ""),
    ("site.make_current_call", "POST"):               (NOT_FOUND, ""),
    ("site.archive_call", "POST"):                    (NOT_FOUND, ""),
    ("site.reopen_call", "POST"):                     (NOT_FOUND, ""),
    ("site.invite_entities", "POST"):                 (NOT_FOUND, ""),
    ("registry.confirm_participation", "GET"):        (NOT_FOUND, ""),
    ("registry.confirm_participation", "POST"):       (NOT_FOUND, ""),
    # the probe names the first Ambito's area: refused, nothing written
    ("calendar.manage_new_table", "GET"):             (OWN, ""),
    ("calendar.manage_new_table", "POST"):            (OWN, ""),
    ("calendar.manage_table", "GET"):                 (NOT_FOUND, ""),
    ("calendar.manage_table", "POST"):                (NOT_FOUND, ""),
    ("calendar.manage_close_table", "POST"):          (NOT_FOUND, ""),
    ("calendar.manage_reopen_table", "POST"):         (NOT_FOUND, ""),
    ("calendar.manage_series", "GET"):                (NOT_FOUND, ""),
    ("calendar.manage_series", "POST"):               (NOT_FOUND, ""),
    ("calendar.manage_new_meeting", "GET"):           (NOT_FOUND, ""),
    ("calendar.manage_new_meeting", "POST"):          (NOT_FOUND, ""),
    ("calendar.manage_facilitators", "GET"):          (NOT_FOUND, ""),
    ("calendar.manage_facilitators", "POST"):         (NOT_FOUND, ""),
    ("calendar.manage_venues", "GET"):                (OWN, ""),
    ("calendar.manage_venue", "GET"):                 (NOT_FOUND, ""),
    ("calendar.manage_venue", "POST"):                (NOT_FOUND, ""),
    ("calendar.manage_new_venue", "GET"):             (OWN, ""),
    ("calendar.manage_new_venue", "POST"):            (OWN, ""),
    ("registry.review_list", "GET"):                  (OWN, ""),
    ("registry.review_detail", "GET"):                (NOT_FOUND, ""),
    ("registry.review_admit", "POST"):                (NOT_FOUND, ""),
    ("registry.review_public_change", "POST"):        (NOT_FOUND, ""),
    ("registry.review_amendment", "POST"):            (NOT_FOUND, ""),
    ("registry.review_reject", "POST"):               (NOT_FOUND, ""),
    ("registry.review_ask_information", "POST"):      (NOT_FOUND, ""),
    ("registry.review_erase", "POST"):                (NOT_FOUND, ""),
    ("registry.review_correct_address", "POST"):      (NOT_FOUND, ""),
    ("registry.review_paper", "GET"):                 (OWN, ""),
    ("registry.review_paper", "POST"):                (OWN, ""),
    ("reports.index", "GET"):                         (OWN, ""),
    ("reports.export_csv", "GET"):                    (OWN, ""),
    ("reports.export_xlsx", "GET"):                   (OWN, ""),
    # the certificate of an entity (shared) for this Ambito's call, which entity 1 never applied to
    ("reports.certificate", "GET"):                   (NOT_FOUND, ""),
    ("reports.write_to_absent", "GET"):               (NOT_FOUND, ""),
    ("reports.write_to_absent", "POST"):              (NOT_FOUND, ""),
    ("mailing.outbox", "GET"):                        (OWN, ""),
    ("mailing.message", "GET"):                       (NOT_FOUND, ""),
    ("mailing.message_eml", "GET"):                   (NOT_FOUND, ""),
    ("mailing.retry", "POST"):                        (NOT_FOUND, ""),
    ("announcements.index", "GET"):                   (OWN, ""),
    ("announcements.new", "GET"):                     (OWN, ""),
    ("announcements.new", "POST"):                    (OWN, ""),
    ("announcements.detail", "GET"):                  (NOT_FOUND, ""),
    ("announcements.preview_html", "GET"):            (NOT_FOUND, ""),
    ("announcements.edit", "GET"):                    (NOT_FOUND, ""),
    ("announcements.edit", "POST"):                   (NOT_FOUND, ""),
    ("announcements.retry", "POST"):                  (NOT_FOUND, ""),
    ("announcements.schedule", "POST"):               (NOT_FOUND, ""),
    ("announcements.send_now", "POST"):               (NOT_FOUND, ""),
    ("announcements.send_test", "POST"):              (NOT_FOUND, ""),
    ("announcements.unschedule", "POST"):             (NOT_FOUND, ""),
    ("announcements.delete", "POST"):                 (NOT_FOUND, ""),
    ("announcements.venue_notice", "GET"):            (NOT_FOUND, ""),
    ("announcements.venue_notice", "POST"):           (NOT_FOUND, ""),
    ("registry.contacts_page", "GET"):                (NOT_FOUND, ""),
    ("registry.contacts_page", "POST"):               (NOT_FOUND, ""),
    ("registry.resend_confirmation", "POST"):         (NOT_FOUND, ""),
    ("registry.remove_contact", "POST"):              (NOT_FOUND, ""),
    ("registry.confirm_delegate", "GET"):             (SHARED, "a delegate's address is the entity's, not an "
                                                               "Ambito's"),
    ("registry.confirm_delegate", "POST"):            (SHARED, "a delegate's address is the entity's, not an "
                                                               "Ambito's"),
    ("registry.mail_preferences", "GET"):             (NOT_FOUND, ""),
    ("registry.mail_preferences", "POST"):            (NOT_FOUND, ""),
    ("mailing.unsubscribe", "GET"):                   (SHARED, "the preferences of an e-mail address"),
    ("mailing.unsubscribe", "POST"):                  (SHARED, "the preferences of an e-mail address"),
    # --- the Accordo di Programma
    ("agreements.index", "GET"):                      (OWN, ""),
    ("agreements.new", "GET"):                        (OWN, ""),
    ("agreements.new", "POST"):                       (OWN, ""),
    ("agreements.detail", "GET"):                     (NOT_FOUND, ""),
    ("agreements.edit", "GET"):                       (NOT_FOUND, ""),
    ("agreements.edit", "POST"):                      (NOT_FOUND, ""),
    ("agreements.open_for_adhesion", "POST"):         (NOT_FOUND, ""),
    ("agreements.remind", "POST"):                    (NOT_FOUND, ""),
    ("agreements.delete", "POST"):                    (NOT_FOUND, ""),
    ("agreements.document", "GET"):                   (NOT_FOUND, ""),
    ("agreements.signed_copy", "GET"):                (NOT_FOUND, ""),
    ("agreements.annul", "GET"):                      (NOT_FOUND, ""),
    ("agreements.annul", "POST"):                     (NOT_FOUND, ""),
    ("agreements.export_csv", "GET"):                 (NOT_FOUND, ""),
    ("agreements.export_xlsx", "GET"):                (NOT_FOUND, ""),
    ("agreements.adhere", "GET"):                     (NOT_FOUND, ""),
    ("agreements.adhere", "POST"):                    (NOT_FOUND, ""),
    ("agreements.entity_document", "GET"):            (NOT_FOUND, ""),
    # --- the installation's administration: no Ambito's staff or facilitator
    ("platform.index", "GET"):                        (PLATFORM, ""),
    ("platform.new_ambito", "GET"):                   (PLATFORM, ""),
    ("platform.new_ambito", "POST"):                  (PLATFORM, ""),
}
# fmt: on
