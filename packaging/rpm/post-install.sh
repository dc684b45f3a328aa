# The data dir (kept on removal), then systemd if it runs ($1 = 1 on a first install).
install -d -o lpsaring -g lpsaring -m 0750 /var/lib/lpsaring
if [ -e /etc/lpsaring/lpsaring.toml ]; then
    chown root:lpsaring /etc/lpsaring/lpsaring.toml
    chmod 0640 /etc/lpsaring/lpsaring.toml
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || :
    if [ "$1" -eq 1 ]; then
        systemctl preset lpsaring.service || :
        echo "lpsaring: edit /etc/lpsaring/lpsaring.toml, run 'lpsaring doctor', then 'systemctl enable --now lpsaring'."
    fi
fi
