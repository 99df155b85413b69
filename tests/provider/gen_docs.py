#!/usr/bin/env python3
# Rewrites the generated parameter reference of docs/providers.md from the
# built plugins' declarations:  python3 tests/provider/gen_docs.py build/bin/aigtatt
import os
import re
import subprocess
import sys

binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin/aigtatt")
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
env = dict(os.environ)
env.pop("AIGTATT_PLUGIN_PATH", None)
ref = subprocess.run([binary, "plugins", "reference"], capture_output=True, text=True, check=True, env=env).stdout
names = ["prompt.openai", "image.openai", "image.replicate", "finetune.replicate", "image.sdapi"]
sections = re.split(r"(?m)^(?=### `)", ref)
out = []
for n in names:
    for s in sections:
        if s.startswith("### `%s`" % n):
            out.append(s.rstrip("\n") + "\n")
p = "docs/providers.md"
s = open(p).read()
b = "<!-- BEGIN GENERATED: provider reference -->\n"
e = "<!-- END GENERATED -->"
i, j = s.index(b) + len(b), s.index(e)
open(p, "w").write(s[:i] + "\n".join(out) + s[j:])
print("docs/providers.md updated")
