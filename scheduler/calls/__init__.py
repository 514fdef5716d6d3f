"""The call (avviso) as data: files in this folder and the loader that reads them."""
