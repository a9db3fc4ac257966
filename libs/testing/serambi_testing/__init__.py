"""Serambi's test and development helpers (issue 20, item 2): development code out of the
production packages. A workspace member that only the development environment installs (the
root project's dependencies, serambi-ops's ``devstack`` extra); no image does.

- ``localstack``: nats-server, SecantusDB and any process on loopback (free ports, readiness);
- ``stack``: the services as OS processes on their own servers (``running_stack``), or the
  whole stack with the sinks (``local_stack``, fault tests, browser tests, benchmarks);
- ``natscluster``: the nodes of a 3-node NATS cluster (ports, health, start-up wait), for the
  fault tests' cluster and the deployment tests' (deploy/nats verbatim);
- ``sinks``: the SMTP and SMS sinks of ``make run`` and the tests;
- ``samples``: sample events of every kind the notifier handles;
- ``whatsapp``: ``FakeWhatsApp``, the in-memory WhatsApp Cloud API.
"""
