#!/bin/sh
# Writes the secrets of the single-host stack into an env file (default: .env next to
# compose.yaml) with fresh random values. Refuses to overwrite: the passwords are baked into
# the data volumes at first start (MongoDB users) — to change one later, see "Rotate
# credentials" in docs/operations.md.
set -eu
target="${1:-$(dirname "$0")/.env}"
if [ -e "$target" ]; then
  echo "$target exists; not overwriting" >&2
  exit 1
fi
secret() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }  # hex: safe in URLs and configs
umask 077
{
  echo "# Serambi single-host secrets, generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by init-env.sh."
  echo "# Keep this file private and back it up (docs/operations.md)."
  for name in NATS_ROUTE NATS_INTAKE NATS_SCHEDULING NATS_COMPLAINTS NATS_NOTIFIER NATS_BUS NATS_OPS \
              MONGO_ROOT MONGO_INTAKE MONGO_SCHEDULING MONGO_COMPLAINTS MONGO_NOTIFIER MONGO_OPS; do
    echo "${name}_PASSWORD=$(secret 24)"
  done
  echo "# Personal-data vault master key (base64 of 32 bytes). Losing it loses all personal data:"
  echo "# keep a copy apart from the backups of the data."
  echo "SERAMBI_PII_MASTER_KEY=$(head -c 32 /dev/urandom | base64)"
  echo "# MongoDB replica-set key file (members authenticate each other with it)"
  echo "MONGO_KEYFILE=$(secret 384)"
  echo "# Scheduling: derives the answer letters' unguessable ids (changing it breaks sent links)."
  echo "SERAMBI_LETTER_SECRET=$(secret 32)"
  echo "# Notifier: the SMS gateway must send this with every delivery receipt (give it to them)."
  echo "SERAMBI_SMS_RECEIPT_SECRET=$(secret 24)"
  echo "# Portal: signs its forms' tokens and encrypts tracking sessions (changing it ends them)."
  echo "SERAMBI_SESSION_SECRET=$(secret 32)"
  echo "# Officer console: the secret of the client serambi-web in your identity provider (import"
  echo "# deploy/keycloak/serambi-realm.json with this same value in its environment)."
  echo "SERAMBI_OIDC_CLIENT_SECRET=$(secret 32)"
  echo "#"
  echo "# --- Set these yourself (docs/operations.md, \"Production configuration\") ---"
  echo "# Officer authentication: your identity provider (e.g. Keycloak realm). Required."
  echo "SERAMBI_AUTH_ISSUER="
  echo "SERAMBI_AUTH_AUDIENCE=serambi"
  echo "SERAMBI_AUTH_JWKS_URL="
  echo "# Where citizens reach Serambi (your TLS reverse proxy), e.g. https://layanan.example.go.id."
  echo "# Links in messages and on tracking pages are built from it. Required."
  echo "SERAMBI_PUBLIC_BASE_URL="
  echo "# SMS gateway. Required: the URL, and the token it gave you (SERAMBI_SMS_PROVIDER=json),"
  echo "# or SERAMBI_SMS_PROVIDER=zenziva with SERAMBI_SMS_USERKEY and SERAMBI_SMS_PASSKEY."
  echo "SERAMBI_SMS_URL="
  echo "SERAMBI_SMS_TOKEN="
  echo "# Officers told of new requests, complaints and missed deadlines: addresses per role (JSON,"
  echo "# in single quotes). Required; production refuses placeholder addresses (*.example). E.g."
  echo "# SERAMBI_OFFICER_EMAILS='{\"desk\": [\"tata-usaha@ekonomi.kalbarprov.go.id\"], \"scheduler\": [...],"
  echo "#   \"complaint_officer\": [...], \"complaint_team\": [...], \"supervisor\": [...]}'"
  echo "SERAMBI_OFFICER_EMAILS="
  echo "# Optional (JSON): officers' phones per role; addresses and phones per assignee (officer id or"
  echo "# complaint team; unlisted: the complaint_team role)."
  echo "# SERAMBI_OFFICER_PHONES='{}'"
  echo "# SERAMBI_ASSIGNEE_EMAILS='{}'"
  echo "# SERAMBI_ASSIGNEE_PHONES='{}'"
  echo "# Mail relay. Required. For a trial without mail leaving: SERAMBI_SMTP_HOST=mailpit,"
  echo "# SERAMBI_SMTP_PORT=1025, SERAMBI_SMTP_TLS=none (the mail catcher, http://127.0.0.1:8025)."
  echo "SERAMBI_SMTP_HOST="
  echo "SERAMBI_SMTP_PORT=587"
  echo "SERAMBI_SMTP_TLS=starttls"
  echo "# SERAMBI_SMTP_USERNAME="
  echo "# SERAMBI_SMTP_PASSWORD="
  echo "# WhatsApp channel (the bureau's number on the WhatsApp Business Cloud API; docs/complaints.md,"
  echo "# \"WhatsApp\"). Off until set up; then SERAMBI_WHATSAPP_MODE=cloud and the values from Meta's"
  echo "# console below (the complaints service refuses to start with cloud and any of them missing)."
  echo "# The verify token is ours: enter this one with the callback URL in Meta's console."
  echo "SERAMBI_WHATSAPP_MODE=off"
  echo "SERAMBI_WHATSAPP_VERIFY_TOKEN=$(secret 24)"
  echo "SERAMBI_WHATSAPP_PHONE_NUMBER_ID="
  echo "SERAMBI_WHATSAPP_ACCESS_TOKEN="
  echo "SERAMBI_WHATSAPP_APP_SECRET="
} > "$target"
echo "wrote $target — now set SERAMBI_AUTH_ISSUER, SERAMBI_AUTH_JWKS_URL, SERAMBI_PUBLIC_BASE_URL,"
echo "SERAMBI_SMS_URL, SERAMBI_SMS_TOKEN, SERAMBI_OFFICER_EMAILS and SERAMBI_SMTP_HOST in it"
