/* every literal */ a "b" "c" { x = 0x1F, y = -2.5e-3, z = 0755 }
s = "esc \t \" \\ \u00e9 \x41 \101 ${interp("q")}"
l = [1, [true, false], { k = "v" },]
l = [2]
// comment
blk { n = 1 }
blk { n = 2 }
h = <<EOT
text
EOT
