"""Source locations: every AST node and every diagnostic carries a Span."""

from __future__ import annotations

import msgspec


class Span(msgspec.Struct, frozen=True):
    """A region of a source file. Lines and columns are 1-based; the end is inclusive of the
    last character's column + 1 (i.e. exclusive), as lark reports it."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def merge(self, other: Span) -> Span:
        """The smallest span covering self and other (same file assumed)."""
        if (other.line, other.column) < (self.line, self.column):
            start_line, start_col = other.line, other.column
        else:
            start_line, start_col = self.line, self.column
        if (other.end_line, other.end_column) > (self.end_line, self.end_column):
            end_line, end_col = other.end_line, other.end_column
        else:
            end_line, end_col = self.end_line, self.end_column
        return Span(self.file, start_line, start_col, end_line, end_col)

    def location(self) -> str:
        """`file:line:col`, the form editors and CI logs understand."""
        return f"{self.file}:{self.line}:{self.column}"


def file_span(path: str) -> Span:
    """A span for a whole file when nothing more precise is known (line 1, column 1)."""
    return Span(path, 1, 1, 1, 1)
