# The data in /var/lib/lpsaring is never deleted. On an upgrade ($1 >= 1) restart a running service.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || :
    if [ "$1" -ge 1 ]; then
        systemctl try-restart lpsaring.service || :
    fi
fi
if [ "$1" -eq 0 ]; then
    echo "lpsaring: your data stays in /var/lib/lpsaring (database, state store, secret key, backups)."
fi
