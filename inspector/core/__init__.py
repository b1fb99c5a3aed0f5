"""What both front-ends share, with neither Textual nor ipywidgets: what PATH
is (roots), the tree of allocations a front-end draws (tree/), paging by
byte offset (pager, hexdump), following a log across
truncation and rotation (follow), searching (search), the checks that guard
snapshot, move and destroy (actions), and showing task-controlled text
safely (text)."""
