/*
 * greenwave-import-sumo: converts a SUMO network (and optionally its routes, programs and
 * detectors) into a greenwave scenario. The work is done by import/sumo.h; this parses the
 * command line, writes the scenario, and prints what could not be mapped on stderr.
 * Exit status: 0 done, 2 bad input (command line or files), 1 an output file cannot be written.
 */
#include "import/sumo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG      "greenwave-import-sumo"
#define MAX_FILES 256

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: " PROG " NET.net.xml [--routes R.rou.xml ...] [--tls T.add.xml ...]\n"
        "       [-o OUT.json] [--name NAME] [--duration S] [--quiet]\n"
        "\n"
        "Converts a SUMO network into a greenwave scenario (docs/scenario-format.md):\n"
        "junctions -> nodes, edges -> links (lanes, speed, length, shape), connections\n"
        "-> movements (with the internal lanes' length and speed as their crossing),\n"
        "traffic-light programs (static, actuated) -> signal groups, stages and a plan,\n"
        "e1 detectors -> detectors, vTypes/vehicles/trips/flows -> classes, trips and\n"
        "flows (departSpeed 0 -> model.depart_from_rest), emergency vehicles -> escorts.\n"
        "The scenario is checked by the loader before it is written.\n"
        "\n"
        "  --routes FILE      a SUMO route file (vType, route, vehicle, trip, flow); repeatable\n"
        "  --tls FILE         an additional file (tlLogic programs replacing the net's,\n"
        "                     e1Detector/inductionLoop); repeatable; --additional is the same\n"
        "  -o, --out FILE     write the scenario here (default: standard output)\n"
        "  --name NAME        scenario name (default: the net file's base name)\n"
        "  --duration S       duration_s of the scenario (default: last departure + %.0f s)\n"
        "  --quiet            do not print the summary\n"
        "  -h, --help         this text\n"
        "\n"
        "A summary (what was imported, and what could not be mapped exactly, with counts)\n"
        "goes to standard error. Unreadable input is refused with file:line: reason and\n"
        "exit status 2.\n",
        IMPORT_SUMO_TAIL_S);
}

/* Prints "PROG: what "arg"" (arg may be NULL) and a hint; returns the exit status 2. */
static int bad_usage(const char *what, const char *arg) {
    fprintf(stderr, PROG ": %s%s%s%s\n(try " PROG " --help)\n", what, arg ? " \"" : "",
            arg ? arg : "", arg ? "\"" : "");
    return 2;
}

int main(int argc, char **argv) {
    const char *routes[MAX_FILES], *adds[MAX_FILES];
    import_sumo_opts_t o = {.routes = routes, .additional = adds};
    const char *out_path = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--routes") == 0 || strcmp(a, "-r") == 0) {
            if (!has_value)
                return bad_usage("a file must follow", a);
            if (o.n_routes == MAX_FILES)
                return bad_usage("too many files for", a);
            routes[o.n_routes++] = argv[++i];
        } else if (strcmp(a, "--tls") == 0 || strcmp(a, "--additional") == 0 ||
                   strcmp(a, "-a") == 0) {
            if (!has_value)
                return bad_usage("a file must follow", a);
            if (o.n_additional == MAX_FILES)
                return bad_usage("too many files for", a);
            adds[o.n_additional++] = argv[++i];
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
            if (!has_value)
                return bad_usage("a file must follow", a);
            out_path = argv[++i];
        } else if (strcmp(a, "--name") == 0) {
            if (!has_value || argv[i + 1][0] == '\0')
                return bad_usage("a name must follow", a);
            o.name = argv[++i];
        } else if (strcmp(a, "--duration") == 0) {
            if (!has_value)
                return bad_usage("a number of seconds must follow", a);
            char *end;
            errno = 0;
            o.duration_s = strtod(argv[++i], &end);
            if (end == argv[i] || *end != '\0' || errno != 0 || !(o.duration_s > 0) ||
                o.duration_s > 1e9)
                return bad_usage("--duration must be a number of seconds in (0, 1e9], got",
                                 argv[i]);
        } else if (a[0] == '-' && a[1] != '\0') {
            return bad_usage("unknown option", a);
        } else if (o.net == NULL) {
            o.net = a;
        } else {
            return bad_usage("one network only; unexpected", a);
        }
    }
    if (o.net == NULL)
        return bad_usage("missing NET.net.xml", NULL);

    base_err_t err;
    import_sumo_result_t r;
    if (import_sumo_convert(&o, &r, &err) < 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return 2;
    }
    FILE *f = out_path ? fopen(out_path, "w") : stdout;
    if (f == NULL) {
        fprintf(stderr, PROG ": %s: cannot write: %s\n", out_path, strerror(errno));
        import_sumo_result_fini(&r);
        return 1;
    }
    int werr = fputs(r.json, f) < 0 || fputc('\n', f) == EOF;
    werr |= out_path ? fclose(f) != 0 : fflush(f) != 0;
    if (werr) {
        fprintf(stderr, PROG ": %s: write error\n", out_path ? out_path : "standard output");
        import_sumo_result_fini(&r);
        return 1;
    }
    if (!quiet) {
        fprintf(stderr,
                PROG ": %s: %d nodes, %d links, %d movements, %d signals, %d detectors, "
                     "%d trips, %d flows, %d escorts\n",
                out_path ? out_path : "scenario", r.nodes, r.links, r.movements, r.signals,
                r.detectors, r.trips, r.flows, r.escorts);
        if (r.notes[0] != '\0')
            fprintf(stderr, "not mapped exactly:\n%s", r.notes);
    }
    import_sumo_result_fini(&r);
    return 0;
}
