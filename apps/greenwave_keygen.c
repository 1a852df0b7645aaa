/*
 * greenwave-keygen - makes a CURVE key pair for greenwave's ZeroMQ endpoints.
 *
 * Exit status: 0 written, 1 cannot write (or no CURVE in libzmq), 2 bad command line.
 */
#include "auth/keys.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

static const char USAGE[] =
    "usage: greenwave-keygen [--force] [--comment TEXT] NAME\n"
    "\n"
    "Makes a CURVE key pair (zmq_curve_keypair) and writes it as two text files:\n"
    "  NAME.key   public and secret key, mode 0600: give it to the program that owns it\n"
    "             (greenwave-controller / greenwave-sim / greenwave-viz --curve-keys NAME.key)\n"
    "  NAME.pub   the public key: give it to the other side, as --curve-server-key NAME.pub\n"
    "             (a client trusting this server) or as a line of a --curve-allow file\n"
    "             (a server accepting this client; .pub files can be concatenated)\n"
    "and prints the public key. See docs/protocol.md, 'Security'.\n"
    "\n"
    "options:\n"
    "  --force         overwrite existing files (otherwise they are refused)\n"
    "  --comment TEXT  first-line comment of both files (default: NAME)\n"
    "  -h, --help      show this help\n"
    "\n"
    "exit status: 0 written, 1 cannot write or no CURVE in libzmq, 2 bad command line\n";

static int usage_error(const char *what, const char *arg) {
    fprintf(stderr, "greenwave-keygen: %s%s%s\ntry 'greenwave-keygen --help'\n", what,
            arg ? " " : "", arg ? arg : "");
    return 2;
}

int main(int argc, char **argv) {
    const char *name = NULL, *comment = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(a, "--force") == 0) {
            force = 1;
        } else if (strcmp(a, "--comment") == 0) {
            if (i + 1 >= argc)
                return usage_error("option --comment needs a value", NULL);
            comment = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option", a);
        } else if (name == NULL) {
            name = a;
        } else {
            return usage_error("more than one NAME given:", a);
        }
    }
    if (name == NULL || name[0] == '\0')
        return usage_error("no NAME given", NULL);
    if (comment != NULL && strpbrk(comment, "\r\n") != NULL)
        return usage_error("--comment: must be one line", NULL);
    base_err_t err = {0};
    auth_keypair_t kp;
    if (auth_keys_generate(&kp, &err) < 0 ||
        auth_keys_write(&kp, name, comment ? comment : name, force, &err) < 0) {
        fprintf(stderr, "greenwave-keygen: %s\n", err.msg);
        return 1;
    }
    printf("%s\n", kp.public_z85);
    return 0;
}
