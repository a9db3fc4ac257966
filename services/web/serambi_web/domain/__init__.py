"""What the pages show, without I/O: the services' answers shaped into Indonesian words, the role →
area rules of the console, deadline colouring, chart geometry, form checks and the kept-draft
rule. Imports only serambi_contracts, serambi_calendar and the standard library (the
``domain-pure`` import contract); mypy strict."""
