/* The incremental forward's state, shared by run_incremental.c (set-up
 * and the nodes' computation) and run_incremental_boxes.c (where each
 * row's values may differ, and what that costs). Engine-internal. */
#ifndef HL_RUN_INCREMENTAL_H
#define HL_RUN_INCREMENTAL_H

#include "run_internal.h"

/* A row's state of one value: clean (the clean forward's numbers) or
 * dirty inside box b (rank-4 values; others: dirty everywhere), its
 * numbers at buf[v] + off, laid out [C, b.y1 - b.y0, b.x1 - b.x0] (or
 * the whole value). */
typedef struct row_state {
    int dirty;
    hl_box b;
    int64_t off;
} row_state;

struct hl_incremental {
    const hl_model *m;
    hl_threadpool *pool;
    int input;              /* the graph input's value */
    hl_plan plan1;          /* shapes (and known values) at batch 1 */
    float **clean;          /* per value: the clean forward (dynamic floats),
                               pointers into clean_block */
    float *clean_block;
    size_t clean_bytes;
    hl_region *reg;         /* per node */
    unsigned char *tracked; /* per node: reg is valid */

    int n, cap_rows;        /* rows of the last forward; rows allocated */
    row_state *rs;          /* [n_values][cap_rows] */
    float **buf;            /* per value: the dirty numbers of every row,
                               pointers into arena */
    size_t *buf_cap;        /* floats of buf[v] in the last forward */
    float *arena;           /* every value's rows of one forward */
    size_t arena_cap, arena_used;   /* floats */
    float *crop[HL_MAX_IO]; /* per node input: crops or whole rows */
    size_t crop_cap[HL_MAX_IO];
    float *scratch;
    size_t scratch_cap;
    hl_plan plan_n;         /* the plan at batch plan_n_batch (full nodes) */
    int plan_n_batch;
    int *group;             /* rows of one box size, cap_rows */
    unsigned char *done;    /* cap_rows */
};

static inline int box_empty(const hl_box *b)
{
    return b->y1 <= b->y0 || b->x1 <= b->x0;
}

static inline int64_t box_area(const hl_box *b)
{
    return box_empty(b) ? 0 : (b->y1 - b->y0) * (b->x1 - b->x0);
}

static inline int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static inline int is_dynamic(const hl_model *m, int v)
{
    return v >= 0 && m->values[v].kind == HL_VAL_DYNAMIC;
}

static inline row_state *state(const hl_incremental *inc, int v, int row)
{
    return &inc->rs[(size_t)v * inc->cap_rows + row];
}

/* Rows 0..n-1 of a forward starting at value v (rank 4): v dirty inside
 * boxes[r] clipped to its H x W (every channel), laid out row after row
 * (*floats of them), every other value clean. */
hl_status hl_inc_seed(hl_incremental *inc, int v, const hl_box *boxes,
                      int n, int64_t *floats, hl_error *err);
/* Every node's output boxes for the inc->n rows whose start value's boxes
 * are set (input_floats of their numbers; hl_inc_seed), as the forward
 * will compute them; returns the floats of every value's rows, each rounded to 64 bytes.
 * crop_max (optional): the most floats of any computed node's inputs. */
int64_t hl_inc_propagate(hl_incremental *inc, int64_t input_floats,
                         int64_t *crop_max);
/* The output box of tracked node k in a row (empty: clean). */
hl_box hl_inc_out_box(const hl_incremental *inc, int k, int row);
/* Does node k read a value that is dirty in some row? */
int hl_inc_node_dirty(const hl_incremental *inc, int k);
hl_status hl_inc_reserve_rows(hl_incremental *inc, int n, hl_error *err);
/* The value a forward starting at `value` seeds: itself (resolved), or
 * for the pre-BN value X of a folded conv, the conv's output Y (its rows
 * mapped through Y = (X - shift) / scale, as an override of X is); -1 if
 * none can start there (not a kept 4-D dynamic value). */
int hl_inc_start_value(const hl_incremental *inc, int value);
/* One forward of n rows seeded at start value v: rows [n, C*H*W], row r
 * read only inside boxes[r] (run_incremental.c). */
hl_status hl_inc_run(hl_incremental *inc, int v, const float *rows,
                     const hl_box *boxes, int n, hl_error *err);

#endif
