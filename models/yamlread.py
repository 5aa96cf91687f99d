"""The YAML reader for every input file (assumption sheets, overlays, saved scenarios): YAML
1.2 core scalars, a line number for every key, and limits on size, depth, aliases and numbers.

"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from models.errors import EqrError
from models.textcheck import BAD_CHARS as _BAD_CHARS, MAX_TEXT_CHARS

# Hardening (issue 9). Sheets are typed by hand and come from other people, so the loader reads
# a deliberately small, predictable YAML:
# * YAML 1.2 core scalars instead of PyYAML's YAML 1.1 defaults: `true`/`false` are booleans but
#   `yes`/`no`/`on`/`off` are text (the "Norway problem"); `1e6` and `1.0e300` are numbers (1.1
#   reads them as text); `040000` is 40000, not octal 16384; `1:30` is text, not 90; dates are
#   text. `.nan`/`.inf` still parse, and are then refused as "not a finite number".
# * no explicit tags except `!!str` (`!!python/object`, `!!float abc`, `!!binary`, ... refused);
# * mapping keys are the key's literal text (`1:` is "1", `yes:` is "yes"); keys that are lists
#   or mappings are refused;
# * limits: file size, nesting depth, size after expanding aliases (alias "billion laughs"
#   bombs), digits in a number, length of a text; no control characters or lone surrogates.
# Every violation is an EqrError naming the file and line.
MAX_FILE_BYTES = 10_000_000
MAX_DEPTH = 32              # nesting levels, counted through aliases
MAX_NODES = 200_000         # values after expanding aliases
MAX_NUMBER_CHARS = 40       # a plain number longer than this is a typo
_TAG = "tag:yaml.org,2002:"
_ALLOWED_EXPLICIT_TAGS = {_TAG + "str"}

class _LineDict(dict):
    """A mapping that remembers the line of each key (1-based)."""

    lines: dict


try:  # libyaml scans and parses ~7x faster; composing and constructing stay in Python
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml: the pure-Python SafeLoader
    _CParser = None

if _CParser is not None:
    class _SafeBase(yaml.composer.Composer, _CParser, yaml.constructor.SafeConstructor,
                    yaml.resolver.Resolver):
        """libyaml's events, Python's composer (so the limits below apply), SafeConstructor."""

        def __init__(self, stream):
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:
    _SafeBase = yaml.SafeLoader


class _LineLoader(_SafeBase):
    """SafeLoader with YAML 1.2 core scalars, literal keys, and limits (see above)."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _ALLOWED_EXPLICIT_TAGS:
            shown = tag.replace(_TAG, "!!") if tag.startswith(_TAG) else tag
            raise EqrError(f"YAML tag {shown} is not allowed", file=self.name,
                           line=event.start_mark.line + 1,
                           expected="plain values (quote a text that starts with '!')",
                           found=shown)
        if isinstance(event, yaml.AliasEvent):
            self.saw_alias = True  # parse_yaml then checks the size with aliases expanded
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise EqrError("YAML nested too deeply", file=self.name,
                               line=event.start_mark.line + 1,
                               expected=f"at most {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_scalar_node(self, anchor):
        node = super().compose_scalar_node(anchor)
        _check_scalar_node(node, self.name, node.start_mark.line + 1)
        return node


_LineLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in [
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
        ("int", r"^[-+]?(?:0|[1-9][0-9_]*)$", list("-+0123456789")),
        ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", list("-+.0123456789")),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("merge", r"^(?:<<)$", ["<"])]:
    _LineLoader.add_implicit_resolver(_TAG + _tag, re.compile(_pattern), _first)


def _check_nodes(root: yaml.Node, file: str) -> None:
    """Refuse alias bombs, self-references and over-deep nesting through aliases.

    Walks the composed node graph once per distinct node (memoised), counting the size and
    depth the document would have with every alias expanded. Only needed when the document
    uses aliases: without them, composing already bounds the depth (and the file size the
    number of values).
    """
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, expanded depth)
    visiting: set[int] = set()

    def walk(node: yaml.Node) -> tuple[int, int]:
        known = sizes.get(id(node))
        if known:
            return known
        line = node.start_mark.line + 1
        if id(node) in visiting:
            raise EqrError("a YAML alias refers to the value that contains it", file=file,
                           line=line, expected="values that do not contain themselves")
        if len(visiting) >= MAX_DEPTH:
            raise EqrError("YAML nested too deeply (counting aliases)", file=file, line=line,
                           expected=f"at most {MAX_DEPTH} levels")
        visiting.add(id(node))
        size, depth = 1, 1
        if not isinstance(node, yaml.ScalarNode):
            children = (node.value if isinstance(node, yaml.SequenceNode)
                        else [n for pair in node.value for n in pair])
            for child in children:
                s, d = walk(child)
                size, depth = size + s, max(depth, d + 1)
                if size > MAX_NODES:
                    raise EqrError("YAML too large once its aliases are expanded", file=file,
                                   line=line, expected=f"at most {MAX_NODES:,} values",
                                   hint="an alias 'bomb'? write the values out")
        visiting.discard(id(node))
        sizes[id(node)] = (size, depth)
        return size, depth

    walk(root)


def _check_scalar_node(node: yaml.ScalarNode, file: str, line: int) -> None:
    text = node.value
    bad = _BAD_CHARS.search(text)
    if bad:
        raise EqrError("text holds a control character or an invalid unicode character",
                       file=file, line=line, expected="printable text",
                       found=f"{bad.group()!r} at position {bad.start()}")
    if len(text) > MAX_TEXT_CHARS:
        raise EqrError("text too long", file=file, line=line,
                       expected=f"at most {MAX_TEXT_CHARS:,} characters (one Excel cell)",
                       found=f"{len(text):,} characters")
    if node.tag in (_TAG + "int", _TAG + "float") and len(text) > MAX_NUMBER_CHARS:
        raise EqrError("number has too many digits", file=file, line=line,
                       expected=f"at most {MAX_NUMBER_CHARS} characters",
                       found=f"{len(text)} characters")
    if node.tag == _TAG + "float" and underflows(text):
        raise EqrError(UNDERFLOW, file=file, line=line, expected=UNDERFLOW_EXPECTED,
                       found=text)


UNDERFLOW = "number too small: it would become 0"
UNDERFLOW_EXPECTED = "0, or a number of magnitude at least 5e-324 (the smallest a float holds)"


def underflows(text: str) -> bool:
    """A nonzero literal (``1e-400``) that a float can only hold as 0 (issue 17): refused
    rather than silently turned into zero."""
    mantissa = re.split("[eE]", text.replace("_", ""), maxsplit=1)[0]
    if not re.search("[1-9]", mantissa):
        return False
    try:
        return float(text.replace("_", "")) == 0.0
    except ValueError:
        return False


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    # keys written in this mapping; keys merged in with `<<: *anchor` may be overridden by them
    explicit = {id(k) for k, _ in node.value if k.tag != _TAG + "merge"}
    loader.flatten_mapping(node)
    out = _LineDict()
    out.lines = {}
    written: set[str] = set()
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise EqrError("a mapping key must be a plain name", file=loader.name, line=line,
                           found="a list or mapping used as a key")
        key = key_node.value  # the literal text: `1:` is "1", `yes:` is "yes", `~:` is "~"
        if id(key_node) in explicit:
            if key in written:
                raise EqrError(f"duplicate key {key!r}", file=loader.name, line=line)
            written.add(key)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def read_bytes(path: Path, shown: str) -> bytes:
    """The file's bytes; a missing, unreadable or oversized file is an EqrError."""
    try:
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise EqrError("file too large for an assumption sheet", file=shown,
                           expected=f"at most {MAX_FILE_BYTES:,} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise EqrError("file not found", file=shown) from None
    except IsADirectoryError:
        raise EqrError("is a folder, not a file", file=shown) from None
    except (OSError, ValueError) as exc:
        raise EqrError(f"cannot read file ({exc.__class__.__name__}: "
                       f"{getattr(exc, 'strerror', None) or exc})", file=shown) from None


def parse_yaml(text: str, shown: str) -> Any:
    """Parse YAML text with :class:`_LineLoader`; any problem becomes an EqrError."""
    loader = None
    try:
        loader = _LineLoader(text)  # checks every character already
        loader.name = shown
        node = loader.get_single_node()
        if node is None:
            return None
        if getattr(loader, "saw_alias", False):
            _check_nodes(node, shown)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = ", ".join(p for p in (exc.context, exc.problem) if p) or "cannot be read"
        if "nesting depth" in problem:  # libyaml's own limit (PyYAML >= 6.0.4) came first
            raise EqrError("YAML nested too deeply", file=shown, line=line,
                           expected=f"at most {MAX_DEPTH} levels") from None
        raise EqrError(f"broken YAML: {problem}", file=shown, line=line) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        # position: characters (pure Python) or UTF-8 bytes (libyaml)
        before = (text.encode("utf-8", "surrogatepass")[:exc.position].decode("utf-8", "replace")
                  if _CParser is not None else text[:exc.position])
        line = before.count("\n") + 1
        raise EqrError("broken YAML: a character YAML does not allow", file=shown, line=line,
                       found=chr(exc.character) if isinstance(exc.character, int)
                       else exc.character) from None
    except yaml.YAMLError as exc:
        raise EqrError(f"broken YAML: {str(exc).splitlines()[0]}", file=shown) from None
    except RecursionError:  # safety net; compose_node's depth limit should come first
        raise EqrError("YAML nested too deeply", file=shown) from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        # safety net for a scalar a constructor cannot read (the checks above should stop it)
        raise EqrError(f"broken YAML: a value cannot be read ({exc.__class__.__name__})",
                       file=shown) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, keeping key line numbers; broken YAML becomes an EqrError."""
    return _read_yaml(path)[0]


def _read_yaml(path: Path) -> tuple[Any, bytes]:
    """The parsed document and the bytes it was parsed from (for the manifest's sha256)."""
    shown = display(path)
    raw = read_bytes(path, shown)
    return parse_bytes(raw, shown), raw


def parse_bytes(raw: bytes, shown: str) -> Any:
    """Decode UTF-8 (refusing anything else, naming the line) and parse."""
    try:
        text = raw.decode("utf-8-sig")  # a BOM from Windows editors is fine
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise EqrError("not UTF-8 text", file=shown, line=line,
                       expected="a YAML text file saved as UTF-8",
                       found=f"byte {raw[exc.start]:#04x}") from None
    return parse_yaml(text, shown)


def line_of(mapping: Any, key: str) -> int | None:
    return getattr(mapping, "lines", {}).get(key)
