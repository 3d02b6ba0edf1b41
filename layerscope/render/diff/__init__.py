"""``layerscope diff``'s output: ``text`` (rich), ``json``, ``markdown`` and the command's format
table (``formats``); the HTML page is ``render/html/diff.py``."""
