/* A valid safetensors file, truncated at every length, with every single
 * bit flipped, and with thousands of seeded random edits (bytes replaced by
 * JSON punctuation, digits and non-UTF-8 bytes; bytes inserted and deleted
 * with N kept right): the reader never crashes, never reads out of bounds
 * (run it under -DAIGTATT_SANITIZE=ON too), refuses with a message naming
 * the file, and what it accepts is self-consistent. */
#include "tensor/st_test_util.h"

static char dir[256];
static char *good, *bad;
static unsigned char *orig;
static size_t orig_n;

static void setup(void)
{
    /* Tens of thousands of small files: a RAM file system when there is one
     * keeps this in seconds rather than a minute on a busy disk. */
    struct stat sb;
    if (!getenv("TMPDIR") && stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
        access("/dev/shm", W_OK) == 0) {
        snprintf(dir, sizeof dir, "/dev/shm/aigtatt-st.XXXXXX");
        if (!mkdtemp(dir))
            st_mkdtemp(dir, sizeof dir);
    } else {
        st_mkdtemp(dir, sizeof dir);
    }
    good = st_join(dir, "good.safetensors");
    bad = st_join(dir, "bad.safetensors");
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    float f[6] = {1, 2, 3, 4, 5, 6};
    int64_t l[3] = {7, 8, 9};
    uint16_t h[2] = {0x3c00, 0xc000};
    unsigned char m[3] = {1, 0, 1};
    cr_assert_eq(aigtatt_st_writer_add(w, "layer.weight", AIGTATT_ST_F32, 2, (const uint64_t[]){2, 3}, f, 24, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "layer.bias", AIGTATT_ST_I64, 1, (const uint64_t[]){3}, l, 24, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "half", AIGTATT_ST_F16, 1, (const uint64_t[]){2}, h, 4, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "mask", AIGTATT_ST_BOOL, 1, (const uint64_t[]){3}, m, 3, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "scalar", AIGTATT_ST_F32, 0, NULL, f, 4, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "empty", AIGTATT_ST_F32, 2, (const uint64_t[]){0, 4}, NULL, 0, 0), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "format", "pt"), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "note", "\xc3\xa9t\xc3\xa9"), 0);
    cr_assert_eq(aigtatt_st_writer_write(w, good), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);
    orig = st_read_bytes(good, &orig_n);
}

static void teardown(void)
{
    free(orig);
    free(good);
    free(bad);
    st_rmdir(dir);
}

TestSuite(st_fuzz, .init = setup, .fini = teardown, .timeout = 600);

static volatile unsigned sink;

/* Opens `bad`; returns 1 if accepted. Accepted files are checked and every
 * data byte is read; refusals must name the file. */
static int try_open(void)
{
    aigtatt_st *st = (aigtatt_st *)0x1;
    aigtatt_clear_error();
    int rc = aigtatt_st_open(bad, &st);
    if (rc != 0) {
        cr_assert_null(st);
        cr_assert(rc == AIGTATT_ERR_FORMAT || rc == AIGTATT_ERR_LIMIT,
                  "status %d: %s", rc, aigtatt_last_error());
        cr_assert(strstr(aigtatt_last_error(), bad), "error without the file: %s",
                  aigtatt_last_error());
        return 0;
    }
    struct stat sb;
    cr_assert_eq(stat(bad, &sb), 0);
    uint64_t pos = 0, first = 0;
    for (size_t i = 0; i < aigtatt_st_count(st); i++) {
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        cr_assert_eq(aigtatt_st_tensor_at(st, i, &info), 0);
        if (i == 0)
            first = pos = info.file_offset;
        cr_assert_eq(info.file_offset, pos);
        pos += info.nbytes;
        cr_assert_leq(pos, (uint64_t)sb.st_size);
        const unsigned char *d = info.data;
        unsigned acc = 0;
        for (uint64_t k = 0; k < info.nbytes; k++)
            acc += d[k];
        sink += acc;
        aigtatt_st_info again = AIGTATT_ST_INFO_INIT;
        cr_assert_eq(aigtatt_st_find(st, info.name, &again), 0);
        cr_assert_eq(again.data, info.data);
    }
    (void)first;
    for (size_t i = 0; i < aigtatt_st_metadata_count(st); i++) {
        const char *k, *v;
        cr_assert_eq(aigtatt_st_metadata_at(st, i, &k, &v), 0);
        sink += (unsigned)strlen(k) + (unsigned)strlen(v);
    }
    aigtatt_st_close(st);
    return 1;
}

Test(st_fuzz, truncations)
{
    for (size_t len = 0; len < orig_n; len++) {
        st_write_bytes(bad, orig, len);
        cr_assert_eq(try_open(), 0, "a file truncated to %zu of %zu bytes was accepted", len,
                     orig_n);
    }
    st_write_bytes(bad, orig, orig_n);
    cr_assert_eq(try_open(), 1, "%s", aigtatt_last_error());
}

Test(st_fuzz, bit_flips)
{
    unsigned char *b = malloc(orig_n);
    int accepted = 0;
    for (size_t i = 0; i < orig_n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, orig, orig_n);
            b[i] ^= (unsigned char)(1u << bit);
            st_write_bytes(bad, b, orig_n);
            accepted += try_open();
        }
    }
    /* Flips in the data bytes (and in the header padding... no: a flipped
     * space is no longer JSON whitespace) are accepted: that is fine. */
    cr_log_info("bit flips: %d of %zu accepted", accepted, orig_n * 8);
    free(b);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

Test(st_fuzz, random_edits)
{
    static const unsigned char interesting[] = {
        '{', '}', '[', ']', '"', ',', ':', '-', '0', '1', '9', 'e', '.', ' ', '\\',
        0x00, 0x7f, 0x80, 0xc0, 0xe0, 0xf0, 0xff, 'u', 'n'};
    size_t cap = orig_n + 64;
    unsigned char *b = malloc(cap);
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = (hn << 8) | orig[i];
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(b, orig, orig_n);
        size_t n = orig_n;
        uint64_t N = hn;
        int edits = 1 + (int)(rnd() % 4);
        for (int e = 0; e < edits; e++) {
            int kind = (int)(rnd() % 4);
            /* Mostly the header: that is where parsing happens. */
            size_t span = (rnd() % 4) ? (size_t)(8 + N) : n;
            if (span > n)
                span = n;
            size_t at = (size_t)(rnd() % (span ? span : 1));
            if (kind == 0) {
                b[at] = interesting[rnd() % sizeof interesting];
            } else if (kind == 1) {
                b[at] = (unsigned char)rnd();
            } else if (kind == 2 && n < cap && at >= 8) {
                /* insert a byte into the header, keeping N right */
                memmove(b + at + 1, b + at, n - at);
                b[at] = interesting[rnd() % sizeof interesting];
                n++;
                if (at < 8 + N)
                    N++;
            } else if (kind == 3 && n > 9 && at >= 8) {
                memmove(b + at, b + at + 1, n - at - 1);
                n--;
                if (at < 8 + N)
                    N--;
            }
            if (kind >= 2)
                for (int k = 0; k < 8; k++)
                    b[k] = (unsigned char)(N >> (8 * k));
        }
        st_write_bytes(bad, b, n);
        accepted += try_open();
    }
    cr_log_info("random edits: %d of 20000 accepted", accepted);
    free(b);
}

/* Files made of random bytes with a plausible N. */
Test(st_fuzz, random_files)
{
    unsigned char b[256];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 8 + (size_t)(rnd() % 200);
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)rnd();
        uint64_t N = rnd() % (n - 7);
        for (int k = 0; k < 8; k++)
            b[k] = (unsigned char)(N >> (8 * k));
        if (n > 8 && rnd() % 2)
            b[8] = '{';
        st_write_bytes(bad, b, n);
        try_open();
    }
}
