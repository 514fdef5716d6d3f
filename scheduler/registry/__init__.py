"""Registry of Third Sector entities and their applications."""
