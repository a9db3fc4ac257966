"""The portal's I/O: clients of the services' public HTTP APIs (its only way to the data), the
OpenID provider's client, the console's sealed session cookies, the content file, the recap
spreadsheets."""
