"""The errors every delivery channel raises, so callers retry one way."""


class ChannelError(Exception):
    """A permanent failure: the same delivery tried again as it is fails again
    (a refused address, a webhook's 4xx, a URL the portal may not post to).
    Record it on the delivery and stop."""


class TransientChannelError(ChannelError):
    """A failure that may pass (the SMTP server down, a timeout, a webhook's 5xx):
    the caller may retry with backoff and a maximum. Whether the other side got
    the message is unknown, so a retry can deliver it twice; the Message-ID or the
    idempotency key lets the receiver tell."""
