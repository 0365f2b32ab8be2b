package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.bindings.errno_h;
import dev.panbpf.internal.Fd;
import dev.panbpf.internal.MapAttr;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * BpfMap is one kernel BPF map: its fd and shape, and the element operations on {@link MemorySegment} keys and
 * values. A map made by {@link #create} owns its fd and closes it; a map from a {@link BpfObject} belongs to the
 * object and is released when the object closes. The segment operations also throw IllegalStateException when
 * a segment's arena is closed and WrongThreadException when a segment is confined to another thread.
 */
public class BpfMap implements AutoCloseable {
    private final Fd fd;
    private final boolean owned;
    private final String name;
    private final int type;
    /** The sizes are the kernel's u32 values, kept unsigned. */
    private final long keySize;
    private final long valueSize;
    private final long maxEntries;
    private final int flags;
    BpfObject object;   // set by MapScalars before the object hands the map out; null for create and describe

    BpfMap(Fd fd, boolean owned, String name, int type, long keySize, long valueSize, long maxEntries, int flags) {
        this.fd = fd;
        this.owned = owned;
        this.name = name;
        this.type = type;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
        this.flags = flags;
    }

    /**
     * Creates an unnamed map; see {@link #create(MapType, long, long, long, int, String)}.
     *
     * @param type the map type
     * @param keySize key size in bytes, 0 to 2^32-1
     * @param valueSize value size in bytes, 0 to 2^32-1
     * @param maxEntries maximum number of entries (ring buffers: data size in bytes), 0 to 2^32-1
     * @param flags BPF_F_* flags
     * @return the new map, which owns its fd
     * @throws IllegalArgumentException if a size is out of range, or a ring buffer's is not valid
     * @throws BpfException if the kernel refuses to create the map
     */
    public static BpfMap create(MapType type, long keySize, long valueSize, long maxEntries, int flags) {
        return create(type, keySize, valueSize, maxEntries, flags, "");
    }

    /**
     * Creates a map with BPF_MAP_CREATE, without a BPF object. Ring buffers take key and value size 0 and a
     * {@code maxEntries} that is the data size in bytes: a power of two and a multiple of the page size (up to
     * 2 GiB, the largest power of two a u32 holds).
     *
     * @param type the map type
     * @param keySize key size in bytes, 0 to 2^32-1 (the kernel's u32)
     * @param valueSize value size in bytes, 0 to 2^32-1
     * @param maxEntries maximum number of entries (ring buffers: data size in bytes), 0 to 2^32-1
     * @param flags BPF_F_* flags
     * @param name the map's name, at most 15 characters ("" for none)
     * @return the new map, which owns its fd
     * @throws IllegalArgumentException if a size is out of range, the name too long, or a ring buffer's size or
     *         key/value sizes are not valid
     * @throws BpfException if the kernel refuses to create the map
     */
    public static BpfMap create(MapType type, long keySize, long valueSize, long maxEntries, int flags, String name) {
        MapChecks.create(type, keySize, valueSize, maxEntries, name);
        int fd = MapAttr.create(type.value(), keySize, valueSize, maxEntries, flags, name);
        return new BpfMap(new Fd(fd, "map '" + name + "'"), true, name, type.value(), keySize, valueSize,
                maxEntries, flags);
    }

    /**
     * Describes the map behind an fd that someone else owns (libbpf, another library, a pinned map you opened),
     * asking the kernel for its type and sizes. Closing the returned BpfMap leaves the fd open; keep the fd open
     * while the BpfMap is used.
     *
     * @param fd an open BPF map fd
     * @param name the name to use in messages
     * @return a map that borrows {@code fd}
     * @throws BpfException if {@code fd} is not a BPF map (EBADF, EINVAL)
     */
    public static BpfMap describe(int fd, String name) {
        return MapScalars.describe(fd, name);
    }

    /** {@return the map's name ("" for unnamed maps)} */
    public String name() {
        return name;
    }

    /** {@return the loaded BPF object this map belongs to; empty for a map made by create or describe} */
    public Optional<BpfObject> object() {
        return Optional.ofNullable(object);
    }

    /** {@return the kernel's map type number; see {@link #mapType()}} */
    public int type() {
        return type;
    }

    /** {@return the map type, or null for a type panbpf has no name for} */
    public MapType mapType() {
        return MapType.of(type);
    }

    /** {@return the key size in bytes: the kernel's u32, unsigned} */
    public long keySize() {
        return keySize;
    }

    /** {@return the value size in bytes (of one CPU's value; see {@link #valueBufferSize()}): a u32, unsigned} */
    public long valueSize() {
        return valueSize;
    }

    /** {@return the maximum number of entries (ring buffers: the data size in bytes, up to 2^31): a u32, unsigned} */
    public long maxEntries() {
        return maxEntries;
    }

    /** {@return the BPF_F_* flags the map was created with} */
    public int flags() {
        return flags;
    }

    /** {@return the map's file descriptor; throws if the map is closed} */
    public int fd() {
        return fd.get();
    }

    /**
     * One element syscall on this map's fd, held so that a close on another thread waits for it instead of
     * freeing the number under it (see {@link Fd#acquire()}).
     */
    int elem(int cmd, MemorySegment key, MemorySegment value, long flags) {
        int f = fd.acquire();
        try {
            return MapAttr.elem(cmd, f, key, value, flags);
        } finally {
            fd.release();
        }
    }

    /** {@return whether the map (or the object owning it) was closed} */
    public boolean isClosed() {
        return fd.isClosed();
    }

    // ------------------------------------------------------------------------------------------ element ops

    /**
     * Bytes a value buffer of {@link #lookup}/{@link #update} must have: {@link #valueSize()}, except for per-CPU
     * maps, where the kernel reads and writes one value per possible CPU, each padded to 8 bytes.
     *
     * @return the value buffer size in bytes
     */
    public long valueBufferSize() {
        return PerCpu.valueBufferSize(type, valueSize);
    }

    /**
     * Copies the value for {@code key} into {@code value}.
     *
     * @param key the key, {@link #keySize()} bytes of native memory
     * @param value where the kernel writes the value: {@link #valueBufferSize()} bytes, native and writable
     * @return false when there is no such key
     * @throws IllegalArgumentException if a segment has the wrong size, is on the heap, or {@code value} is
     *         read-only
     * @throws BpfException if the map is closed or the kernel refuses the lookup
     */
    public boolean lookup(MemorySegment key, MemorySegment value) {
        MapChecks.key(this, key);
        MapChecks.value(this, value, true);
        return check(elem(bpf_h.BPF_MAP_LOOKUP_ELEM(), key, value, 0), "lookup", true);
    }

    /**
     * Stores {@code value} at {@code key}.
     *
     * @param key the key, {@link #keySize()} bytes of native memory (read-only is fine: the kernel only reads it)
     * @param value the value, {@link #valueBufferSize()} bytes of native memory
     * @param flags BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2)
     * @throws IllegalArgumentException if a segment has the wrong size or is on the heap
     * @throws BpfException if the map is closed or the kernel refuses (EEXIST, ENOENT, E2BIG when full...)
     */
    public void update(MemorySegment key, MemorySegment value, long flags) {
        MapChecks.key(this, key);
        MapChecks.value(this, value, false);
        check(elem(bpf_h.BPF_MAP_UPDATE_ELEM(), key, value, flags), "update", false);
    }

    /**
     * Stores {@code value} at {@code key}, creating or replacing it.
     *
     * @param key the key
     * @param value the value
     * @throws RuntimeException as {@link #update(MemorySegment, MemorySegment, long)}
     */
    public void update(MemorySegment key, MemorySegment value) {
        update(key, value, bpf_h.BPF_ANY());
    }

    /**
     * Deletes {@code key}.
     *
     * @param key the key, {@link #keySize()} bytes of native memory
     * @return false when it was not there
     * @throws IllegalArgumentException if the key has the wrong size or is on the heap
     * @throws BpfException if the map is closed or the kernel refuses
     */
    public boolean delete(MemorySegment key) {
        MapChecks.key(this, key);
        return check(elem(bpf_h.BPF_MAP_DELETE_ELEM(), key, MemorySegment.NULL, 0), "delete", true);
    }

    /**
     * The map's keys, walked with BPF_MAP_GET_NEXT_KEY; each key is a fresh segment. Deleting the current key
     * while walking a hash map makes the kernel start over from the first key.
     *
     * @return an iterable whose every iterator starts a new walk
     */
    public Iterable<MemorySegment> keys() {
        return () -> new MapKeys(this);
    }

    /**
     * Appends {@code value} to a queue or stack map.
     *
     * @param value the value, {@link #valueSize()} bytes of native memory
     * @param flags BPF_ANY, or BPF_EXIST to replace the oldest value when the map is full
     * @throws IllegalArgumentException if this is no queue or stack, or the value has the wrong size or is on the
     *         heap
     * @throws BpfException if the map is closed or the kernel refuses (E2BIG when full)
     */
    public void push(MemorySegment value, long flags) {
        MapChecks.queue(this, "push");
        MapChecks.value(this, value, false);
        check(elem(bpf_h.BPF_MAP_UPDATE_ELEM(), MemorySegment.NULL, value, flags), "push", false);
    }

    /**
     * Appends {@code value} to a queue or stack map; fails with E2BIG when it is full.
     *
     * @param value the value, {@link #valueSize()} bytes of native memory
     */
    public void push(MemorySegment value) {
        push(value, bpf_h.BPF_ANY());
    }

    /**
     * Takes the next value (queue: oldest, stack: newest) into {@code value}.
     *
     * @param value where the kernel writes the value: {@link #valueSize()} bytes, native and writable
     * @return false when the map is empty
     * @throws IllegalArgumentException if this is no queue or stack, or {@code value} has the wrong size, is on the
     *         heap or is read-only
     * @throws BpfException if the map is closed or the kernel refuses
     */
    public boolean pop(MemorySegment value) {
        MapChecks.queue(this, "pop");
        MapChecks.value(this, value, true);
        return check(elem(bpf_h.BPF_MAP_LOOKUP_AND_DELETE_ELEM(), MemorySegment.NULL, value, 0),
                "pop", true);
    }

    /**
     * Copies the next value of a queue or stack map into {@code value} without taking it.
     *
     * @param value where the kernel writes the value: {@link #valueSize()} bytes, native and writable
     * @return false when the map is empty
     * @throws IllegalArgumentException as {@link #pop}
     * @throws BpfException if the map is closed or the kernel refuses
     */
    public boolean peek(MemorySegment value) {
        MapChecks.queue(this, "peek");
        MapChecks.value(this, value, true);
        return check(elem(bpf_h.BPF_MAP_LOOKUP_ELEM(), MemorySegment.NULL, value, 0), "peek", true);
    }

    // ------------------------------------------------------------------- int and long keys and values

    /**
     * Looks up a 4-byte key in a map with 4-byte values.
     * @param key the key
     * @return the value, or null when the key is absent
     */
    public Integer lookupInt(int key) {
        return MapScalars.lookupInt(this, key);
    }

    /**
     * Looks up a 4-byte key in a map with 8-byte values.
     * @param key the key
     * @return the value, or null when the key is absent
     */
    public Long lookupLong(int key) {
        return MapScalars.lookupLong(this, key);
    }

    /**
     * Looks up an 8-byte key in a map with 8-byte values.
     * @param key the key
     * @return the value, or null when the key is absent
     */
    public Long lookupLong(long key) {
        return MapScalars.lookupLong(this, key);
    }

    /**
     * Stores a 4-byte value at a 4-byte key, creating or replacing the entry.
     * @param key the key
     * @param value the value to store
     */
    public void update(int key, int value) {
        update(key, value, bpf_h.BPF_ANY());
    }

    /**
     * Stores a 4-byte value at a 4-byte key.
     * @param key the key
     * @param value the value to store
     * @param flags BPF_ANY, BPF_NOEXIST (only create) or BPF_EXIST (only replace)
     */
    public void update(int key, int value, long flags) {
        MapScalars.update(this, key, value, flags);
    }

    /**
     * Stores an 8-byte value at a 4-byte key, creating or replacing the entry.
     * @param key the key
     * @param value the value to store
     */
    public void update(int key, long value) {
        update(key, value, bpf_h.BPF_ANY());
    }

    /**
     * Stores an 8-byte value at a 4-byte key.
     * @param key the key
     * @param value the value to store
     * @param flags BPF_ANY, BPF_NOEXIST (only create) or BPF_EXIST (only replace)
     */
    public void update(int key, long value, long flags) {
        MapScalars.update(this, key, value, flags);
    }

    /**
     * Stores an 8-byte value at an 8-byte key.
     * @param key the key
     * @param value the value to store
     * @param flags BPF_ANY, BPF_NOEXIST (only create) or BPF_EXIST (only replace)
     */
    public void update(long key, long value, long flags) {
        MapScalars.update(this, key, value, flags);
    }

    /**
     * Deletes a 4-byte key.
     * @param key the key to remove
     * @return false when it was not there
     */
    public boolean delete(int key) {
        return MapScalars.delete(this, key);
    }

    /**
     * Deletes an 8-byte key.
     * @param key the key to remove
     * @return false when it was not there
     */
    public boolean delete(long key) {
        return MapScalars.delete(this, key);
    }

    /**
     * Pushes a 4-byte value onto a queue or stack map.
     * @param value the value to append
     */
    public void push(int value) {
        MapScalars.push(this, value);
    }

    /**
     * Pushes an 8-byte value onto a queue or stack map.
     * @param value the value to append
     */
    public void push(long value) {
        MapScalars.push(this, value);
    }

    /** {@return the next 4-byte value taken from a queue or stack map, or null when it is empty} */
    public Integer popInt() {
        return MapScalars.nextInt(this, true);
    }

    /** {@return the next 8-byte value taken from a queue or stack map, or null when it is empty} */
    public Long popLong() {
        return MapScalars.nextLong(this, true);
    }

    /** {@return the next 4-byte value of a queue or stack map, left in place, or null when it is empty} */
    public Integer peekInt() {
        return MapScalars.nextInt(this, false);
    }

    /** {@return the next 8-byte value of a queue or stack map, left in place, or null when it is empty} */
    public Long peekLong() {
        return MapScalars.nextLong(this, false);
    }

    // ------------------------------------------------------------------------------------------- checks

    /** Maps a result of an element command: ENOENT is "absent" where allowed, other errors throw. */
    boolean check(int r, String op, boolean enoentIsFalse) {
        if (r == 0) {
            return true;
        }
        if (enoentIsFalse && -r == errno_h.ENOENT()) {
            return false;
        }
        throw new BpfException(op + " on " + this, -r, null);
    }

    /** Closes the map's fd if this map owns it; maps of a BpfObject are closed with the object. */
    @Override
    public void close() {
        if (owned) {
            fd.close();
        }
    }

    /** Marks a map that someone else owns as closed, when its owner (a BpfObject) closes. */
    void release() {
        fd.close();
    }

    @Override
    public String toString() {
        MapType t = mapType();
        return (t == null ? "type " + type : t.name()) + " map '" + name + "'";
    }
}
