#!/usr/bin/env python3
"""Checks that docs/plugins.md, the SDK guide, names every key the parsers accept.

  scripts/check-guide.py [REPO_DIR]      (default: the repository of this script)

Collects
  - every key of a KeyRule table passed to walk_map() in
    host/config/manifest*.cpp and host/config/operator_config.cpp: the
    `{"name", ...}` entries directly inside the rule list, i.e. the third
    argument of walk_map (strings nested deeper, such as did_you_mean(text,
    {"plugin", "app"}) inside a rule's lambda, are not keys);
  - every member of `struct trellis_host_api` and `struct
    trellis_plugin_descriptor` in sdk/include/trellis/abi.h;
and checks that each appears in docs/plugins.md as a whole word inside an
inline code span (`mount`, or `plugins.<instance>.mount`; fenced code
blocks do not count). Exit 1 listing every missing name with where it came
from; exit 0 printing how many were checked. Also checks that the guide's
first plugin (section 1) is README.md's "Writing a plugin" project, the one
tests/sdk/readme_plugin_test.sh builds and runs. Standard library only.
"""

import re
import sys
from pathlib import Path

# Names that the extraction finds but that are not keys or ABI names (none today).
EXCLUDE: set = set()

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def blank_comments(src: str) -> str:
    """Replaces // and /* */ comments by spaces (keeping offsets and lines),
    leaving string and character literals alone."""
    out = list(src)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            i = j + 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        else:
            i += 1
    return "".join(out)


def string_end(src: str, i: int) -> int:
    """The index after the literal starting at src[i] (a quote)."""
    quote, j = src[i], i + 1
    while j < len(src) and src[j] != quote:
        j += 2 if src[j] == "\\" else 1
    return j + 1


def walk_map_keys(path: Path):
    """Yields (key, line) for every KeyRule entry of every walk_map(...) call."""
    src = blank_comments(path.read_text(encoding="utf-8"))
    for call in re.finditer(r"\bwalk_map\s*\(", src):
        i = call.end()
        paren, brace, arg = 1, 0, 0  # depths relative to the call; argument index
        rules_brace = None  # brace depth at which the rule list's entries open
        while i < len(src) and paren > 0:
            c = src[i]
            if c in "\"'":
                i = string_end(src, i)
                continue
            if c == "(":
                paren += 1
            elif c == ")":
                paren -= 1
            elif c == "{":
                brace += 1
                # The rule list is the brace group of argument 2 at the call's
                # own parenthesis level; its entries are the groups one deeper.
                if arg == 2 and paren == 1 and brace == 1:
                    rules_brace = 1
                elif rules_brace is not None and paren == 1 and brace == rules_brace + 1:
                    m = re.match(r'\s*"([^"\\]*)"\s*,', src[i + 1:])
                    if m:
                        yield m.group(1), src.count("\n", 0, i) + 1
            elif c == "}":
                brace -= 1
            elif c == "," and paren == 1 and brace == 0:
                arg += 1
            i += 1


def struct_members(header: str, name: str):
    """Yields (member, line) for the members of `struct name { ... }`."""
    m = re.search(r"\bstruct\s+" + re.escape(name) + r"\s*\{", header)
    if not m:
        raise SystemExit(f"check-guide: struct {name} not found in abi.h")
    start = m.end()
    end = header.index("}", start)  # the closing brace: these structs nest none
    body = header[start:end]
    offset = start
    for decl in body.split(";"):
        text = decl.strip()
        if text:
            fn = re.search(r"\(\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", text)
            member = fn.group(1) if fn else IDENT.findall(text)[-1]
            at = offset + decl.find(member)
            yield member, header.count("\n", 0, at) + 1
        offset += len(decl) + 1


def inline_code_words(markdown: str) -> set:
    """Every identifier-like word inside an inline code span, fences excluded."""
    lines, in_fence, fence = [], False, ""
    for line in markdown.splitlines():
        stripped = line.lstrip()
        m = re.match(r"(`{3,}|~{3,})", stripped)
        if m and (not in_fence or stripped.startswith(fence)):
            in_fence, fence = (not in_fence), m.group(1)[:3]
            lines.append("")
            continue
        lines.append("" if in_fence else line)
    text = "\n".join(lines)
    words = set()
    # A span opens and closes with the same number of backticks; it may wrap
    # a line but not a paragraph.
    for m in re.finditer(r"(?<!`)(`+)(?!`)((?:(?!\n\s*\n).)+?)(?<!`)\1(?!`)", text, re.S):
        words.update(re.findall(r"[A-Za-z0-9_]+", m.group(2)))
    return words


def main() -> int:
    repo = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    guide = repo / "docs" / "plugins.md"
    config_dir = repo / "host" / "config"
    abi = repo / "sdk" / "include" / "trellis" / "abi.h"

    wanted = {}  # name -> [where, ...]
    sources = sorted(config_dir.glob("manifest*.cpp")) + [config_dir / "operator_config.cpp"]
    key_count = 0
    for source in sources:
        if not source.is_file():
            print(f"check-guide: {source} is missing", file=sys.stderr)
            return 1
        found = list(walk_map_keys(source))
        if "walk_map(" in source.read_text(encoding="utf-8") and not found:
            print(f"check-guide: no KeyRule keys found in {source}: the extraction is broken", file=sys.stderr)
            return 1
        for key, line in found:
            if key in EXCLUDE:
                continue
            key_count += 1
            wanted.setdefault(key, []).append(f"{source.relative_to(repo)}:{line}")

    header = blank_comments(abi.read_text(encoding="utf-8"))
    abi_count = 0
    for struct in ("trellis_plugin_descriptor", "trellis_host_api"):
        members = list(struct_members(header, struct))
        if not members:
            print(f"check-guide: no members found in struct {struct}", file=sys.stderr)
            return 1
        for member, line in members:
            if member in EXCLUDE:
                continue
            abi_count += 1
            wanted.setdefault(member, []).append(f"{abi.relative_to(repo)}:{line} (struct {struct})")

    if not guide.is_file():
        print(f"check-guide: {guide} is missing", file=sys.stderr)
        return 1
    documented = inline_code_words(guide.read_text(encoding="utf-8"))
    missing = sorted(name for name in wanted if name not in documented)
    if missing:
        print(f"check-guide: {len(missing)} name(s) missing from {guide.relative_to(repo)} "
              "(write each as inline code, e.g. `name` or `section.name`):", file=sys.stderr)
        for name in missing:
            print(f"  {name}: from {', '.join(wanted[name])}", file=sys.stderr)
        return 1
    # The guide's first plugin is the README's, which tests/sdk/readme_plugin_test.sh
    # builds and runs: the same blocks (the README's first line names the file).
    readme_blocks = fenced_blocks(section(repo.joinpath("README.md").read_text(encoding="utf-8"), "## Writing a plugin"))
    guide_blocks = fenced_blocks(section(guide.read_text(encoding="utf-8"), "## 1. Your first plugin"))
    expected = [block.split("\n", 1)[1] for block in readme_blocks[:4]]
    if len(readme_blocks) < 4 or guide_blocks[:4] != expected:
        print(f"check-guide: the first four code blocks of {guide.relative_to(repo)} section 1 differ from "
              "README.md's \"Writing a plugin\" ones (without their first, file-naming line); README's are "
              "the ones the test suite builds, so the guide's must be the same", file=sys.stderr)
        return 1
    print(f"check-guide: OK: {len(wanted)} distinct names documented in {guide.relative_to(repo)}: "
          f"{key_count} KeyRule entries from {len(sources)} parser files, "
          f"{abi_count} descriptor and host-table fields from abi.h; "
          "its first plugin is the README's tested one")
    return 0


def section(markdown: str, heading: str) -> str:
    """The text from the line starting with `heading` to the next heading of that level."""
    level = heading.split(" ", 1)[0] + " "
    out, inside = [], False
    for line in markdown.splitlines(keepends=True):
        if line.startswith(level):
            inside = line.startswith(heading)
            continue
        if inside:
            out.append(line)
    return "".join(out)


def fenced_blocks(markdown: str) -> list:
    """The contents of the ``` fenced blocks, in order."""
    blocks, current = [], None
    for line in markdown.splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


if __name__ == "__main__":
    sys.exit(main())
