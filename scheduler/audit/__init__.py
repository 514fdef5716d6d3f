"""Who changed what, and when: one log for every change staff or entities make through the services."""
