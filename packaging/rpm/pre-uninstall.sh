# On the last removal ($1 = 0) stop and disable the service; an upgrade leaves it running.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now lpsaring.service || :
fi
