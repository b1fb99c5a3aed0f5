"""An inspector for Nomad allocation directories, on the ``allocdir`` library.

``inspector.core`` holds what both front-ends share (no Textual, no
ipywidgets); ``inspector.tui`` is the Textual app (``allocdir-inspector``);
``inspector.demo`` builds a live demo client root for either.
"""
