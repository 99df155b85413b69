/* Sampled bodies along a spine, shared by the snake and koi motifs. */
#ifndef PG_BODY_H
#define PG_BODY_H
#include "pg.h"

#define PG_BODY_MAX 400

typedef struct pg_body {
    int n;
    double x[PG_BODY_MAX], y[PG_BODY_MAX];   /* spine, index 0 = head */
    double nx[PG_BODY_MAX], ny[PG_BODY_MAX]; /* unit normals */
    double w[PG_BODY_MAX];                   /* half width */
} pg_body;

void pg_body_frame(pg_body *b);
void pg_body_path(cairo_t *cr, const pg_body *b, int i0, int i1);
void pg_body_sides(cairo_t *cr, const pg_body *b, int i0, int i1);
#endif
