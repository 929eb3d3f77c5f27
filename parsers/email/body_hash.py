"""The body hash that keeps apart two different mails sharing a Message-ID, read in slices.

The same message fetched over IMAP and received over SMTP differs in its trace headers, not in its body, so the
hash covers the body below the header block with line endings normalised and trailing whitespace dropped. Done on
the whole body at once (partition, regex substitution, rstrip) that is three copies of the body plus the regex's
list of pieces: six times a 30 MB message. Slice by slice the result is the same digest.
"""

from __future__ import annotations

import hashlib

SLICE_BYTES = 1 << 16


def _body_start(content: bytes) -> int:
    """Where the body begins: after the first empty line (CRLF, else bare LF); the end when there is none."""
    crlf = content.find(b"\r\n\r\n")
    if crlf >= 0:
        return crlf + 4
    lf = content.find(b"\n\n")
    return lf + 2 if lf >= 0 else len(content)


def email_body_hash(content: bytes) -> str:
    """sha256 of the body, CRLF and LF alike, trailing whitespace dropped; the first 32 hex digits."""
    digest = hashlib.sha256()
    view = memoryview(content)
    carried = b""  # a CR ending the previous slice may be the first half of a CRLF
    trailing: list[bytes] = []  # whitespace at the end so far: hashed only once something follows it
    for start in range(_body_start(content), len(content), SLICE_BYTES):
        chunk = carried + view[start : start + SLICE_BYTES]
        carried = b"\r" if chunk.endswith(b"\r") else b""
        # `\r?\n` -> `\n` is exactly replacing CRLF by LF (a bare LF stays), which bytes.replace does in C.
        normalised = chunk[: len(chunk) - len(carried)].replace(b"\r\n", b"\n")
        kept = normalised.rstrip()
        if not kept:
            trailing.append(normalised)
            continue
        for whitespace in trailing:
            digest.update(whitespace)
        digest.update(kept)
        trailing = [normalised[len(kept) :]]
    return digest.hexdigest()[:32]
