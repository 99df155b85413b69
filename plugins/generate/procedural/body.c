/* Long bodies along a spine (snakes, koi): a centre curve sampled into
 * points, normals and a width profile, drawn in chunks from tail to head so
 * that where the body crosses itself the part nearer the head lies on top. */
#include <math.h>
#include "pg_body.h"

void pg_body_frame(pg_body *b)
{
    for (int i = 0; i < b->n; i++) {
        int i0 = i > 0 ? i - 1 : i, i1 = i < b->n - 1 ? i + 1 : i;
        double tx = b->x[i1] - b->x[i0], ty = b->y[i1] - b->y[i0];
        double l = hypot(tx, ty);
        if (l < 1e-9)
            l = 1;
        b->nx[i] = -ty / l;
        b->ny[i] = tx / l;
    }
}

/* Outline of samples [a, b] as one closed path. */
void pg_body_path(cairo_t *cr, const pg_body *b, int i0, int i1)
{
    cairo_new_sub_path(cr);
    for (int i = i0; i <= i1; i++) {
        double px = b->x[i] + b->nx[i] * b->w[i], py = b->y[i] + b->ny[i] * b->w[i];
        if (i == i0)
            cairo_move_to(cr, px, py);
        else
            cairo_line_to(cr, px, py);
    }
    for (int i = i1; i >= i0; i--)
        cairo_line_to(cr, b->x[i] - b->nx[i] * b->w[i], b->y[i] - b->ny[i] * b->w[i]);
    cairo_close_path(cr);
}

/* The two side lines of samples [a, b]: outlines without seams between chunks. */
void pg_body_sides(cairo_t *cr, const pg_body *b, int i0, int i1)
{
    for (int s = -1; s <= 1; s += 2) {
        for (int i = i0; i <= i1; i++) {
            double px = b->x[i] + s * b->nx[i] * b->w[i], py = b->y[i] + s * b->ny[i] * b->w[i];
            if (i == i0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
    }
}
