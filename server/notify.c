/* notify.c — tells systemd (or any service manager speaking sd_notify) when
 * the server is ready and when it is stopping (notify.h). */
#include "notify.h"

#include <systemd/sd-daemon.h>

int notify_ready(const char *export_dir, const char *listen_url)
{
	return sd_notifyf(0, "READY=1\nSTATUS=exporting %s on %s", export_dir, listen_url);
}

int notify_stopping(void)
{
	return sd_notify(0, "STOPPING=1");
}
