"""``AllocDir.stat`` content types: Nomad's TestAllocDir_DetectContentType and
the part of Go's net/http sniff_test.go table that is stable across Go
versions, through the public ``stat``."""

from __future__ import annotations

import os
import struct
import zlib

import pytest

# A 1x1 PNG, a tiny GIF and a JPEG header: what Nomad's input/ fixtures start with.
PNG = (
    b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 0, 0,
                                                                       0, 0)
    + struct.pack(">I", zlib.crc32(b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)))
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 40
GO_SOURCE = b'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("Hello, World!")\n}\n'
HCL = b'job "example" {\n  datacenters = ["dc1"]\n  group "cache" {\n    task "redis" {}\n  }\n}\n'

NOMAD_CASES = {
    "happy.gif": (GIF, "image/gif"),
    "image.png": (PNG, "image/png"),
    "nomad.jpg": (JPEG, "image/jpeg"),
    "test.bin": (bytes(range(256)) * 4, "application/octet-stream"),
    "test.json": (b'{"hello": "world", "n": [1, 2, 3]}\n', "application/json"),
    "test.txt": (b"Hello World! this is plain text.\n", "text/plain; charset=utf-8"),
    "test.go": (GO_SOURCE, "text/plain; charset=utf-8"),
    "test.hcl": (HCL, "text/plain; charset=utf-8"),
}


def _write(alloc, name: str, data: bytes) -> str:
    path = os.path.join(alloc.shared_dir, "data", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return f"alloc/data/{name}"


@pytest.mark.parametrize("name", sorted(NOMAD_CASES))
def test_nomad_detect_content_type(alloc, name):
    """Nomad TestAllocDir_DetectContentType."""
    data, want = NOMAD_CASES[name]
    assert alloc.stat(_write(alloc, name, data)).content_type == want


# Go net/http sniff_test.go (sniffTests), entries whose result has not changed
# between Go releases.
GO_SNIFF_TESTS = [
    ("Empty", b"", "text/plain; charset=utf-8"),
    ("Binary", bytes([1, 2, 3]), "application/octet-stream"),
    ("HTML document #1", b"<HtMl><bOdY>blah blah blah</body></html>", "text/html; charset=utf-8"),
    ("HTML document #2", b"<HTML></HTML>", "text/html; charset=utf-8"),
    ("HTML document #3 (leading whitespace)", b"   <!DOCTYPE HTML>...",
     "text/html; charset=utf-8"),
    ("HTML document #4 (leading CRLF)", b"\r\n<html>...", "text/html; charset=utf-8"),
    ("Plain text", "This is not HTML. It has ☃ though.".encode(), "text/plain; charset=utf-8"),
    ("XML", b"\n<?xml!", "text/xml; charset=utf-8"),
    ("GIF 87a", b"GIF87a", "image/gif"),
    ("GIF 89a", b"GIF89a...", "image/gif"),
    ("MIDI audio", b"MThd\x00\x00\x00\x06\x00\x01", "audio/midi"),
    ("MP3 audio/MPEG audio", b"ID3\x03\x00\x00\x00\x00\x0f", "audio/mpeg"),
    ("WAV audio #1", b"RIFFb\xb8\x00\x00WAVEfmt \x12\x00\x00\x00\x06", "audio/wave"),
    ("WAV audio #2", b"RIFF,\x00\x00\x00WAVEfmt \x12\x00\x00\x00\x06", "audio/wave"),
    ("AIFF audio #1", b"FORM\x00\x00\x00\x00AIFFCOMM\x00\x00\x00\x12\x00\x01\x00\x00\x57\x55\x00"
     b"\x10\x40\x0d\xf3\x34", "audio/aiff"),
    ("OGG audio", b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x7e\x46\x00\x00\x00\x00\x00\x00"
     b"\x1f\xf6\xb4\xfc\x01\x1e\x01\x76\x6f\x72", "application/ogg"),
    ("MP4 video", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat", "video/mp4"),
    ("AVI video #1", b"RIFF,O\n\x00AVI LIST\xc3\x80", "video/avi"),
    ("AVI video #2", b"RIFF,\n\x00\x00AVI LIST\xc3\x80", "video/avi"),
    # The signatures the spec names, and other long-stable ones of Go's table.
    ("PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    ("PostScript", b"%!PS-Adobe-3.0\n", "application/postscript"),
    ("ZIP", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "application/zip"),
    ("GZIP", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "application/x-gzip"),
    ("PNG", PNG, "image/png"),
    ("JPEG", JPEG, "image/jpeg"),
    ("BMP", b"BM\x36\x00\x00\x00\x00\x00", "image/bmp"),
    ("WEBP", b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    ("WEBM", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "video/webm"),
    ("UTF-16BE BOM", b"\xfe\xff\x00h\x00i", "text/plain; charset=utf-16be"),
    ("UTF-16LE BOM", b"\xff\xfeh\x00i\x00", "text/plain; charset=utf-16le"),
    ("UTF-8 BOM", b"\xef\xbb\xbfhello", "text/plain; charset=utf-8"),
    ("HTML comment", b"<!-- a comment -->", "text/html; charset=utf-8"),
    ("HTML tag needs space or >", b"<htmlx>", "text/plain; charset=utf-8"),
    ("HTML <p> tag", b"<p>para</p>", "text/html; charset=utf-8"),
    ("XML after whitespace", b"  \t<?xml version='1.0'?>", "text/xml; charset=utf-8"),
    ("Whitespace only", b" \t\r\n", "text/plain; charset=utf-8"),
    ("Text with NUL", b"hello\x00world", "application/octet-stream"),
    ("Text with ESC is still text", b"ansi \x1b[31mred\x1b[0m", "text/plain; charset=utf-8"),
]


@pytest.mark.parametrize("desc,data,want", GO_SNIFF_TESTS, ids=[c[0] for c in GO_SNIFF_TESTS])
def test_go_sniff_table(alloc, desc, data, want):
    assert alloc.stat(_write(alloc, "sniffed", data)).content_type == want


def test_only_first_512_bytes_are_sniffed(alloc):
    data = b"a" * 512 + b"\x00\x01\x02"
    assert alloc.stat(_write(alloc, "late-binary", data)).content_type == (
        "text/plain; charset=utf-8")
    data = b"a" * 511 + b"\x00"
    assert alloc.stat(_write(alloc, "edge-binary", data)).content_type == (
        "application/octet-stream")


def test_json_extension_wins_whatever_the_content(alloc):
    assert alloc.stat(_write(alloc, "weird.json", b"\x00\x01binary")).content_type == (
        "application/json")
    assert alloc.stat(_write(alloc, "nested/dir/x.json", b"[]")).content_type == (
        "application/json")
    # not a .json file
    assert alloc.stat(_write(alloc, "json.txt", b"{}")).content_type == (
        "text/plain; charset=utf-8")


def test_directory_is_octet_stream(alloc):
    assert alloc.stat("alloc/data").content_type == "application/octet-stream"


def test_list_does_not_sniff(alloc):
    _write(alloc, "a.txt", b"text")
    (info,) = alloc.list("alloc/data")
    assert info.content_type == ""
