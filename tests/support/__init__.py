"""Test support for real system components: Dovecot, Postfix and its tools, swaks.

- `system`: skip-or-fail gating, subprocess running, temporary directories daemons can reach.
- `ports`: free loopback ports and waiting for a server's greeting.
- `dovecot`: a throwaway Dovecot IMAP server and its pytest fixtures.
- `postfix`: smtp-source, smtp-sink, swaks runners and a throwaway Postfix relay.
"""
