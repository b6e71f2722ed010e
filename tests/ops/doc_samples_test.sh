#!/usr/bin/env bash
# Every ```cpp block of README.md and docs/*.md must compile against the current headers.
#   tests/ops/doc_samples_test.sh SOURCE_DIR BUILD_DIR [CXX]
# Include folders and flags come from BUILD_DIR/compile_commands.json (those of the apps; only
# public include folders, */include, and -isystem ones). Each block is checked with
# -fsyntax-only, as its own translation unit. Conventions (docs/testing.md):
#   - a block with `int main` is a complete program: compiled exactly as written;
#   - any other block is a fragment: compiled after a prelude that includes every public
#     header (*/include/nanocaf/**/*.hpp);
#   - <!-- sample-preamble: CODE --> just before a block puts CODE (hidden from readers)
#     between the prelude and the block;
#   - <!-- sample: statements --> just before a block wraps it in a function body.
# Errors point at the markdown file and line (#line directives).
set -uo pipefail
src=$1 build=$2 cxx=${3:-c++}
source "$(dirname "$0")/common.sh"

if [ ! -f "$build/compile_commands.json" ]; then
  echo "no $build/compile_commands.json (configure with CMAKE_EXPORT_COMPILE_COMMANDS)"
  exit 1
fi

python3 - "$src" "$build/compile_commands.json" "$work" <<'EOF' || exit 1
import glob, json, os, re, shlex, sys

src, commands, work = sys.argv[1:4]
src = os.path.realpath(src)

# Flags: the union over the apps' entries, public include folders only.
flags = []
def keep(*fs):
    if not any(flags[j:j + len(fs)] == list(fs) for j in range(len(flags))):
        flags.extend(fs)
for e in json.load(open(commands)):
    if not os.path.realpath(e["file"]).startswith(os.path.join(src, "apps") + os.sep):
        continue
    args = e.get("arguments") or shlex.split(e["command"])
    i = 1
    while i < len(args):
        a = args[i]
        if a in ("-I", "-D", "-o") and i + 1 < len(args):
            a, i = a + args[i + 1], i + 1
        if a == "-isystem" and i + 1 < len(args):
            keep("-isystem", args[i + 1])
            i += 1
        elif a.startswith("-I"):
            if a[2:].rstrip("/").endswith("/include"):
                keep(a)
        elif a.startswith("-D") or a.startswith("-std=") or a == "-pthread" or a.startswith("-W"):
            keep(a)
        i += 1
if not any(f.startswith("-I") and f.endswith("actors/include") for f in flags):
    sys.exit("doc samples: no apps entry with actors/include in " + commands)
open(os.path.join(work, "flags"), "w").write("\n".join(flags) + "\n")

# The prelude of fragments: every public header.
headers = []
for inc in sorted(glob.glob(os.path.join(src, "*", "include")) + glob.glob(os.path.join(src, "apps", "*", "include"))):
    for h in sorted(glob.glob(os.path.join(inc, "nanocaf", "**", "*.hpp"), recursive=True)):
        headers.append(os.path.relpath(h, inc))
prelude = "".join('#include <%s>\n' % h for h in headers)
prelude += "#include <chrono>\n#include <memory>\n#include <string>\n#include <vector>\n"

docs = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md")))
count = 0
listing = []
for path in docs:
    rel = os.path.relpath(path, src)
    lines = open(path, encoding="utf-8").read().split("\n")
    preamble, preamble_line, statements = None, 0, False
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*<!--\s*sample-preamble:(.*)$", line)
        if m:
            start, text = i, m.group(1)
            while "-->" not in text and i + 1 < len(lines):
                i += 1
                text += "\n" + lines[i]
            preamble, preamble_line = text[: text.index("-->")], start + 1
            i += 1
            continue
        if re.match(r"\s*<!--\s*sample:\s*statements\s*-->", line):
            statements = True
            i += 1
            continue
        fence = re.match(r"\s*(`{3,}|~{3,})\s*([\w+-]*)", line)
        if fence and fence.group(2) != "cpp":  # another language: skipped, whatever it holds
            mark = fence.group(1)
            i += 1
            while i < len(lines) and not re.match(r"\s*" + re.escape(mark) + r"\s*$", lines[i]):
                i += 1
            preamble, statements = None, False
            i += 1
            continue
        if fence:
            mark = fence.group(1)
            first = i + 2  # 1-based line of the block's first code line
            body = []
            i += 1
            while i < len(lines) and not re.match(r"\s*" + re.escape(mark) + r"\s*$", lines[i]):
                body.append(lines[i])
                i += 1
            code = "\n".join(body) + "\n"
            out = ""
            if re.search(r"\bint\s+main\s*\(", code) and preamble is None and not statements:
                out = '#line %d "%s"\n%s' % (first, rel, code)
            else:
                out = prelude
                if preamble is not None:
                    out += '#line %d "%s"\n%s\n' % (preamble_line, rel, preamble)
                if statements:
                    out += "void doc_sample() {\n"
                out += '#line %d "%s"\n%s' % (first, rel, code)
                if statements:
                    out += "}\n"
            count += 1
            name = os.path.join(work, "sample-%03d.cpp" % count)
            open(name, "w").write(out)
            listing.append("%s\t%s:%d" % (name, rel, first))
            preamble, statements = None, False
            i += 1
            continue
        if line.strip() and not line.lstrip().startswith("<!--"):
            preamble, statements = None, False  # a comment only applies to the next block
        i += 1
open(os.path.join(work, "samples"), "w").write("\n".join(listing) + "\n")
if count == 0:
    sys.exit("doc samples: no ```cpp block found")
EOF

mapfile -t flags < "$work/flags"
failures=0 total=0
while IFS=$'\t' read -r file where; do
  [ -n "$file" ] || continue
  total=$((total + 1))
  if "$cxx" "${flags[@]}" -fsyntax-only "$file" > "$work/out" 2>&1; then
    echo "ok   $where"
  else
    echo "FAIL $where"
    head -n 40 "$work/out"
    failures=$((failures + 1))
  fi
done < "$work/samples"
echo "$total samples, $failures failed"
[ "$failures" = 0 ]
