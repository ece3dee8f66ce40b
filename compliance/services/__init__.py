"""Writes and orchestration of the compliance app, split by sub-domain:

* ``frames``: loading holdings, trade legs and return histories into the frames
  the pure engine takes (reads only);
* ``rules``: creating and changing rules, applying regulatory templates;
* ``evaluation``: a package by step — requesting evaluations (post-trade, daily
  fan-out, manual), loading their histories, computing, storing, running, and
  the read-only pre-trade check;
* ``alerts``: breach episodes from results, and the officer workflow;
* ``notifications``: in-app notifications and e-mail, idempotently, and digests.
"""
