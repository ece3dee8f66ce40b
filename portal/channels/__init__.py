"""Delivery channels of the portal core: e-mail (``mail``), signed webhooks
(``webhook``) and the in-app inbox (``inbox``).

Every app that tells people something — compliance notifications today, report
deliveries later — sends through these functions, so a message goes out one way
however it was caused, and no app imports another app to reach a channel. A
channel delivers one message and says how it went; it keeps no delivery state of
its own (the inbox's message row is the delivery itself). The caller owns the
natural key, the claim and the retries: it creates its delivery row before
sending, claims it with a conditional update, and retries only on
:class:`~portal.channels.errors.TransientChannelError`.
"""
