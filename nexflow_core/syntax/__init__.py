"""Syntax: the five lark grammars (plus the shared common.lark), the cached parsers, the
parse-tree-to-AST transformer and the translation of lark errors into plain-words
diagnostics. Entry point: `parse_source(text, path) -> ast.Module`."""

from nexflow_core.syntax.parser import EXTENSIONS, get_parser, kind_of, parse_file, parse_source

__all__ = ["EXTENSIONS", "get_parser", "kind_of", "parse_file", "parse_source"]
