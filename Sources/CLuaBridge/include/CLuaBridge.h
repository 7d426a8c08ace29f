#ifndef RUNBOOK_CLUA_BRIDGE_H
#define RUNBOOK_CLUA_BRIDGE_H

/*
 * The C side of runbook's Lua host.
 *
 * Lua raises errors with longjmp, and a longjmp across a Swift frame is undefined behaviour.
 * Everything in this file exists so that Swift never calls a Lua function that can raise
 * outside a protected call:
 *  - rb_cpcall runs a C function (which may raise) inside lua_pcall;
 *  - Swift functions exposed to Lua run behind rb_trampoline, which raises their errors after
 *    the Swift frame has returned;
 *  - the allocator never fails while the host (Swift) has control, so the non-raising push
 *    functions Swift uses (lua_pushlstring, lua_createtable, lua_rawset, ...) cannot longjmp;
 *  - limits (deadline, memory cap) are enforced here, in the hook and the allocator, and once
 *    one trips it stays tripped: pcall, xpcall, coroutine.resume, coroutine.close and load are
 *    wrapped so a script cannot swallow the error.
 */

#include <stddef.h>
#include <stdint.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>
#include <lua5.4/lauxlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What stopped a run for good. */
typedef enum {
    RB_TRIP_NONE = 0,
    RB_TRIP_TIMEOUT = 1,
    RB_TRIP_MEMORY = 2,
    RB_TRIP_INTERRUPT = 3,
} rb_trip;

/* Return values of a dispatch call besides a result count (>= 0). */
static const int RB_CALL_ERROR = -1;     /* the error value is on top of the stack */
static const int RB_CALL_NOSTACK = -2;   /* lua_checkstack failed; the trampoline raises a message */

/* Calls the Swift function behind `function` with the Lua stack of the call; see rb_trampoline. */
typedef int (*rb_dispatch_fn)(void *host, lua_State *L, void *function);
/* Releases a Swift function box when Lua collects the closure that held it. */
typedef void (*rb_release_fn)(void *function);
/* Receives what `print` writes. */
typedef void (*rb_output_fn)(void *host, const char *bytes, size_t length);

#define RB_MESSAGE_CAPACITY 512

typedef struct rb_vm {
    lua_State *L;

    /* memory, in bytes */
    size_t used;
    size_t peak;
    size_t cap;          /* 0: no cap */
    size_t ceiling;      /* cap plus room to report the error; allocations beyond it fail */
    int running;         /* 1 while Lua code runs; 0 while the host has control */

    /* deadline on CLOCK_MONOTONIC, in nanoseconds; 0: none */
    int64_t deadline_ns;

    rb_trip tripped;
    char timeout_text[RB_MESSAGE_CAPACITY];  /* e.g. "the script ran past --timeout 1s" */
    char memory_text[RB_MESSAGE_CAPACITY];   /* e.g. "the script used more than --memory-limit 256MiB" */
    char interrupt_text[RB_MESSAGE_CAPACITY]; /* e.g. "interrupted by SIGTERM" */
    int interrupt_requested;                 /* set from any thread by rb_request_interrupt */
    char fatal[RB_MESSAGE_CAPACITY * 2];     /* the message raised once a limit tripped */

    void *host;
    rb_dispatch_fn dispatch;
    rb_release_fn release;
    rb_output_fn output;
} rb_vm;

/* ---- state ---- */

/* Asks the running script to stop at its next hook check, with vm->interrupt_text. Safe from any
 * thread (an atomic store); a tripped interrupt cannot be caught, like the other limits. */
void rb_request_interrupt(rb_vm *vm);

/* Bytes the VM may still allocate before its memory limit trips; SIZE_MAX without a cap. */
size_t rb_memory_headroom(lua_State *L);

/* Trips the memory limit from the host: work the host does on the script's behalf (converting
 * its values) counts against the limit. Raised as soon as control returns to Lua. */
void rb_trip_memory_from_host(lua_State *L);

/* Creates a state that allocates through vm's capped allocator. NULL when malloc fails. */
lua_State *rb_newstate(rb_vm *vm);
rb_vm *rb_vm_of(lua_State *L);
int64_t rb_monotonic_ns(void);

/* Runs f(L) with its one argument a light userdata `argument`, protected. Returns a lua status;
 * on error the error value is on top of the stack. f may leave `nresults` results. */
int rb_cpcall(lua_State *L, lua_CFunction f, void *argument, int nresults);

/* The largest script or module file runbook loads, in bytes (4 MiB). */
#define RB_MAX_SOURCE_SIZE 4194304

/* Opens the allow-listed standard library: the script environment. Protected (use rb_cpcall). */
int rb_open_environment(lua_State *L);

/* Loads a text chunk (binary chunks refused; a first line starting with '#' passed over). Does not raise. */
int rb_load_text(lua_State *L, const char *bytes, size_t length, const char *chunkname);

/* Calls the function below `nargs` arguments with the traceback handler, with limits armed.
 * On error: the error value is on top, and rb_last_traceback / rb_last_where describe it. */
int rb_pcall_script(lua_State *L, int nargs, int nresults);

/* Pushes the traceback / "file:line:" of the last error caught by rb_pcall_script (or nil). */
void rb_push_last_traceback(lua_State *L);
void rb_push_last_where(lua_State *L);

/* ---- values ---- */

/* The sentinel light userdata that is `json.null`. */
void *rb_null_sentinel(void);
/* Pushes the metatable that marks an explicitly empty array (`json.array()`). */
void rb_push_array_marker(lua_State *L);
/* Whether the table at idx carries the array marker. Does not raise. */
int rb_has_array_marker(lua_State *L, int idx);

/* Pushes a Swift function: a C closure over a box that holds `function` (retained by the caller,
 * released through vm->release when the closure is collected). Host mode only. */
void rb_push_swift_function(lua_State *L, void *function);

/* Sets the metatable of the table on top to one whose __tostring returns the string on top;
 * pops the string. Host mode only. */
void rb_set_error_description(lua_State *L);

/* Converts the value at idx to a string like tostring() does (running __tostring), protected.
 * Pushes the string, or on failure a fallback description. Never raises. */
void rb_push_display_string(lua_State *L, int idx);

/* ---- script environment configuration (host mode: only raw, non-raising operations) ---- */

/* Pops a table and makes it module `name`: `require(name)` returns it, and it is also the
 * global `name` when as_global is non-zero. */
void rb_install_module(lua_State *L, const char *name, int as_global);

/* Makes `require(name)` no longer find module `name` (a module only the host's own Lua uses). */
void rb_remove_module(lua_State *L, const char *name);

/* Sets the ';'-separated directories that `require` searches, in order. */
void rb_set_search_path(lua_State *L, const char *directories);

/* Lets os.getenv answer for this variable name; it answers nil for every name not allowed. */
void rb_allow_environment_variable(lua_State *L, const char *name);

/* ---- host-side helpers for the registry and the stack ---- */

/* Number of entries in the registry table. Does not raise. */
int rb_registry_size(lua_State *L);

/* Wrappers for Lua's function-like macros, which Swift cannot import. */
static inline void rb_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void rb_newtable(lua_State *L) { lua_newtable(L); }
static inline int rb_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
static inline int rb_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline int rb_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void rb_gc_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
static inline void rb_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline const char *rb_tolstring_raw(lua_State *L, int idx, size_t *len) {
    /* Only for values whose type is LUA_TSTRING: then no conversion (and no allocation) happens. */
    return lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, len) : NULL;
}

#ifdef __cplusplus
}
#endif

#endif
