#include "password.h"

#include <ctype.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ganglion/error.h"

void gn_password_bt_env_name(const char *path, char *out, size_t cap)
{
    size_t o = 0;
    const char *prefix = "BT_PW_";
    for (const char *p = prefix; *p && o + 1 < cap; p++)
        out[o++] = *p;
    for (const char *p = path; *p && o + 1 < cap; p++)
        out[o++] = (*p == '/' || *p == '.') ? '_' : (char)toupper((unsigned char)*p);
    out[o] = '\0';
}

static int from_bt_env(const char *path, char *out, size_t cap)
{
    char name[4200];
    gn_password_bt_env_name(path, name, sizeof(name));
    const char *v = getenv(name);
    if (!v)
        return GN_ENOENT;
    size_t n, nl = strlen(name);
    if (sodium_base642bin((unsigned char *)out, cap - 1, v, strlen(v), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return GN_EINVAL;
    for (size_t i = 0; i < n; i++)
        out[i] ^= name[i % nl];
    out[n] = '\0';
    return 0;
}

static int read_tty(const char *prompt, char *out, size_t cap)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (fd < 0)
        return GN_ENOENT;
    struct termios old, quiet;
    int have_termios = tcgetattr(fd, &old) == 0;
    if (have_termios) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* nothing to do: the read below still works */
    }
    size_t n = 0;
    char c;
    int rc = 0;
    while (read(fd, &c, 1) == 1 && c != '\n' && c != '\r') {
        if (n + 1 >= cap) {
            rc = GN_ERANGE;
            break;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (have_termios)
        tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        /* ignored */
    }
    close(fd);
    return rc;
}

int gn_password_get(const char *path, const char *env_name, const char *prompt, bool confirm,
                    char *out, size_t cap)
{
    if (env_name) {
        const char *v = getenv(env_name);
        if (!v)
            return GN_ENOENT;
        if (strlen(v) + 1 > cap)
            return GN_ERANGE;
        strcpy(out, v);
        return 0;
    }
    if (from_bt_env(path, out, cap) == 0)
        return 0;
    int rc = read_tty(prompt, out, cap);
    if (rc < 0 || !confirm)
        return rc;
    char again[GN_PASSWORD_MAX];
    rc = read_tty("Retype password: ", again, sizeof(again));
    if (rc == 0 && strcmp(out, again) != 0)
        rc = GN_EPASSWORD;
    sodium_memzero(again, sizeof(again));
    return rc;
}
