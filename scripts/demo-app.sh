#!/usr/bin/env bash
# The demo "TEE app": started by `tkms exec`, it sees its mnemonic and unsealed secrets only in its
# environment. It prints its public identities and secret, and keeps an SQLCipher database
# encrypted with a data key derived from its mnemonic (created on the first run, reopened after).
set -euo pipefail
db=$1
echo "    app $TKMS_APP_ID"
echo "    eth  $TKMS_ETH_ADDRESS"
echo "    sol  $TKMS_SOL_ADDRESS"
echo "    secret DB_PASSWORD = $DB_PASSWORD"
# the data key never touches the disk: mnemonic in through a pipe, key out into a variable
key=$(printf '%s\n' "$MNEMONIC" | "$TKMS" derive data-key --mnemonic-file - --label demo-db)
if [ ! -f "$db" ]; then
    sqlcipher "$db" >/dev/null <<SQL
PRAGMA key = "x'$key'";
CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
INSERT INTO notes(body) VALUES ('written at first boot');
SQL
    echo "    database created (SQLCipher, key derived from the mnemonic)"
else
    rows=$(sqlcipher "$db" <<SQL | tail -1
PRAGMA key = "x'$key'";
SELECT count(*) || ' row(s): ' || group_concat(body) FROM notes;
SQL
)
    echo "    database reopened with the re-derived key: $rows"
fi
printf '%s %s\n' "$TKMS_ETH_ADDRESS" "$TKMS_SOL_ADDRESS" > "$DEMO_OUT"
