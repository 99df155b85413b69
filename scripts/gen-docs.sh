#!/usr/bin/env bash
# Rewrites the generated component section of docs/yaml-reference.md from
# the built plugins' declarations (`aigtatt plugins reference`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/bin/aigtatt}"
ref=$(env -u AIGTATT_PLUGIN_PATH "$bin" plugins reference)
python3 - "$ref" <<'PY'
import sys, re
ref = sys.argv[1]
p = "docs/yaml-reference.md"
s = open(p).read()
begin = "<!-- BEGIN GENERATED: aigtatt plugins reference -->\n"
end = "<!-- END GENERATED -->"
i, j = s.index(begin) + len(begin), s.index(end)
open(p, "w").write(s[:i] + ref.rstrip("\n") + "\n" + s[j:])
PY
echo "docs/yaml-reference.md updated"
