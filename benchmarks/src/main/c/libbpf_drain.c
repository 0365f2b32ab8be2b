/*
 * libbpf_drain: the benchmarks' baseline. libbpf's own ring buffer and perf buffer consumers, each with a plain C
 * callback that counts the record and reads its first 8 bytes and the last byte the program wrote (what the Java
 * benchmarks read; a perf sample's size includes the kernel's padding, so the program's size is passed in),
 * so the per-record cost is libbpf's loop plus a call. Java calls *_drain once per drain through FFM: no upcall.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>

struct tally {
    size_t size; /* the program's payload size */
    long records;
    long lost;
    uint64_t sum; /* read back so the compiler cannot drop the payload reads */
};

struct ring_drain {
    struct ring_buffer *rb;
    struct tally t;
};

struct perf_drain {
    struct perf_buffer *pb;
    struct tally t;
};

static void touch(struct tally *t, const void *data, size_t size)
{
    uint64_t first;
    memcpy(&first, data, sizeof(first));
    t->sum += first + ((const unsigned char *)data)[size - 1];
    t->records++;
}

/* A ring record's size is exactly the program's: size 0 (the mixed-size rows) reads the last byte it reports. */
static int on_ring_record(void *ctx, void *data, size_t size)
{
    struct tally *t = ctx;
    touch(t, data, t->size ? t->size : size);
    return 0;
}

static void on_perf_sample(void *ctx, int cpu, void *data, __u32 size)
{
    struct tally *t = ctx;
    (void)cpu;
    (void)size;
    touch(t, data, t->size);
}

static void on_perf_lost(void *ctx, int cpu, __u64 count)
{
    (void)cpu;
    ((struct tally *)ctx)->lost += (long)count;
}

/* Opens libbpf's ring buffer consumer on a BPF_MAP_TYPE_RINGBUF for records of size bytes (0: any size); NULL with
 * errno set on failure. */
void *ring_open(int map_fd, int size)
{
    struct ring_drain *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->t.size = (size_t)size;
    d->rb = ring_buffer__new(map_fd, on_ring_record, &d->t, NULL);
    if (!d->rb) {
        int err = errno;
        free(d);
        errno = err;
        return NULL;
    }
    return d;
}

/* Consumes everything available; returns the records handed to the callback, or a negative error. */
long ring_drain(void *handle)
{
    struct ring_drain *d = handle;
    long before = d->t.records;
    int err = ring_buffer__consume(d->rb);
    return err < 0 ? err : d->t.records - before;
}

static long clock_nanos(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Sleeps delay_us microseconds (a C consumer's hand-made batch delay). */
static void sleep_us(long delay_us)
{
    struct timespec ts = { delay_us / 1000000, (delay_us % 1000000) * 1000 };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/*
 * The consumer-CPU benchmark's libbpf side: calls ring_buffer__poll (waiting at most timeout_ms each time) until
 * nanos of wall time have passed, stores the CPU time this thread spent doing so in *cpu_nanos, and returns the
 * records handed to the callback, or a negative error. With delay_us > 0 it sleeps that long after every poll
 * that delivered records, as panbpf's batch delay does, so the two can be compared like for like.
 */
long ring_poll_for(void *handle, long nanos, int timeout_ms, long delay_us, long *cpu_nanos)
{
    struct ring_drain *d = handle;
    long before = d->t.records;
    long cpu = clock_nanos(CLOCK_THREAD_CPUTIME_ID);
    long end = clock_nanos(CLOCK_MONOTONIC) + nanos;
    long left;

    while ((left = end - clock_nanos(CLOCK_MONOTONIC)) > 0) {
        int wait = left / 1000000 < timeout_ms ? (int)(left / 1000000) + 1 : timeout_ms;
        int err = ring_buffer__poll(d->rb, wait);
        if (err < 0 && err != -EINTR)
            return err;
        if (err > 0 && delay_us > 0)
            sleep_us(delay_us);
    }
    *cpu_nanos = clock_nanos(CLOCK_THREAD_CPUTIME_ID) - cpu;
    return d->t.records - before;
}

uint64_t ring_sum(void *handle)
{
    return ((struct ring_drain *)handle)->t.sum;
}

void ring_close(void *handle)
{
    struct ring_drain *d = handle;
    ring_buffer__free(d->rb);
    free(d);
}

/* Opens libbpf's perf buffer consumer on a PERF_EVENT_ARRAY, page_cnt pages per CPU, size-byte payloads; NULL with errno set. */
void *perf_open(int map_fd, int page_cnt, int size)
{
    struct perf_drain *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->t.size = (size_t)size;
    d->pb = perf_buffer__new(map_fd, (size_t)page_cnt, on_perf_sample, on_perf_lost, &d->t, NULL);
    if (!d->pb) {
        int err = errno;
        free(d);
        errno = err;
        return NULL;
    }
    return d;
}

/* Consumes every CPU's buffer; returns the samples handed to the callback, or a negative error. */
long perf_drain(void *handle)
{
    struct perf_drain *d = handle;
    long before = d->t.records;
    int err = perf_buffer__consume(d->pb);
    return err < 0 ? err : d->t.records - before;
}

long perf_lost(void *handle)
{
    return ((struct perf_drain *)handle)->t.lost;
}

uint64_t perf_sum(void *handle)
{
    return ((struct perf_drain *)handle)->t.sum;
}

void perf_close(void *handle)
{
    struct perf_drain *d = handle;
    perf_buffer__free(d->pb);
    free(d);
}

/* A raw sample as perf_buffer__new_raw hands it over: the header, then u32 size and the payload. */
struct raw_sample {
    struct perf_event_header header;
    __u32 size;
    char data[];
};

static enum bpf_perf_event_ret on_perf_event(void *ctx, int cpu, struct perf_event_header *event)
{
    struct tally *t = ctx;

    if (event->type == PERF_RECORD_SAMPLE) {
        struct raw_sample *s = (struct raw_sample *)event;
        (void)s->size;   /* the kernel's padded size: read the program's, as on_perf_sample does */
        touch(t, s->data, t->size);
    } else if (event->type == PERF_RECORD_LOST) {
        t->lost += ((__u64 *)(event + 1))[1];   /* u64 id, u64 lost */
    }
    return LIBBPF_PERF_EVENT_CONT;
}

/*
 * Like perf_open, with the perf events' wakeup_events set to wakeup (perf_buffer__new opens them with 1), for
 * the consumer-CPU benchmark's batched row: the same BPF_OUTPUT software events libbpf opens itself.
 */
void *perf_open_wakeup(int map_fd, int page_cnt, int size, int wakeup)
{
    struct perf_drain *d = calloc(1, sizeof(*d));
    struct perf_event_attr attr;

    if (!d)
        return NULL;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_BPF_OUTPUT;
    attr.sample_type = PERF_SAMPLE_RAW;
    attr.sample_period = 1;
    attr.wakeup_events = wakeup;
    d->t.size = (size_t)size;
    d->pb = perf_buffer__new_raw(map_fd, (size_t)page_cnt, &attr, on_perf_event, &d->t, NULL);
    if (!d->pb) {
        int err = errno;
        free(d);
        errno = err;
        return NULL;
    }
    return d;
}

/* The perf side of ring_poll_for: perf_buffer__poll until nanos of wall time have passed. */
long perf_poll_for(void *handle, long nanos, int timeout_ms, long delay_us, long *cpu_nanos)
{
    struct perf_drain *d = handle;
    long before = d->t.records;
    long cpu = clock_nanos(CLOCK_THREAD_CPUTIME_ID);
    long end = clock_nanos(CLOCK_MONOTONIC) + nanos;
    long left;

    while ((left = end - clock_nanos(CLOCK_MONOTONIC)) > 0) {
        int wait = left / 1000000 < timeout_ms ? (int)(left / 1000000) + 1 : timeout_ms;
        int err = perf_buffer__poll(d->pb, wait);
        if (err < 0 && err != -EINTR)
            return err;
        if (err > 0 && delay_us > 0)
            sleep_us(delay_us);
    }
    *cpu_nanos = clock_nanos(CLOCK_THREAD_CPUTIME_ID) - cpu;
    return d->t.records - before;
}

/* The mmap'ed perf_event_mmap_page of buffer idx (CPU idx), so a benchmark can rewind data_tail; NULL on error. */
void *perf_page(void *handle, int idx)
{
    struct perf_drain *d = handle;
    void *buf = NULL;
    size_t size = 0;
    if (perf_buffer__buffer(d->pb, idx, &buf, &size) < 0)
        return NULL;
    return buf;
}
