# The service user before the files (the config is group lpsaring). systemd-sysusers when the
# system has it, else the shadow-utils tools; both work without a running systemd.
if ! getent passwd lpsaring >/dev/null; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        echo 'u lpsaring - "lpsaring hotspot portal" /var/lib/lpsaring /sbin/nologin' | systemd-sysusers - || :
    fi
    if ! getent passwd lpsaring >/dev/null; then
        getent group lpsaring >/dev/null || groupadd -r lpsaring
        useradd -r -g lpsaring -d /var/lib/lpsaring -s /sbin/nologin -c "lpsaring hotspot portal" lpsaring
    fi
fi
