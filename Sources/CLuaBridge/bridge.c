#include "CLuaBridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Registry keys: the addresses of these objects are unique light userdata. */
static const char KEY_TRACEBACK = 0;
static const char KEY_WHERE = 0;
static const char KEY_BOX_MT = 0;
static const char KEY_ARRAY_MT = 0;
static const char KEY_SEARCH_PATH = 0;
static const char KEY_ALLOWED_ENV = 0;
static const char NULL_SENTINEL = 0;

/* How many VM instructions run between two looks at the clock. */
#define RB_HOOK_COUNT 1000

/* ------------------------------------------------------------------------------------------ */
/* state, clock, allocator                                                                     */

int64_t rb_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + (int64_t)ts.tv_nsec;
}

rb_vm *rb_vm_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (rb_vm *)ud;
}

static void rb_format_fatal(lua_State *L, rb_vm *vm);

/*
 * Trips the memory limit. While Lua runs, the message is located right away: Lua raises some
 * memory errors without calling the message handler, so later there is no stack to look at.
 * Reading the main thread's stack here is safe: lua_getstack and lua_getinfo("Sl") allocate
 * nothing, and Lua 5.4 keeps the old stack valid while it allocates a new one. Inside a
 * coroutine this names the line that resumed it.
 */
static void rb_trip_memory(rb_vm *vm) {
    if (vm->tripped != RB_TRIP_NONE) return;
    vm->tripped = RB_TRIP_MEMORY;
    vm->fatal[0] = '\0';
    if (vm->running && vm->L != NULL) rb_format_fatal(vm->L, vm);
}

/*
 * The capped allocator. While Lua code runs (vm->running), growing past the cap trips the
 * memory limit; allocations keep succeeding up to vm->ceiling so the error can be reported,
 * and fail beyond it. While the host has control, allocations never fail (a failure would
 * longjmp through Swift): they still count, and going past the cap trips the limit, which is
 * raised as soon as control returns to Lua.
 */
static void *rb_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    rb_vm *vm = (rb_vm *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        vm->used -= old;
        return NULL;
    }
    if (nsize > old && vm->cap > 0) {
        size_t after = vm->used + (nsize - old);
        if (after > vm->cap) {
            rb_trip_memory(vm);
            if (vm->running && after > vm->ceiling) return NULL;
        }
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) {
        if (nsize <= old) return ptr; /* a shrink that failed: keep the larger block */
        if (!vm->running) {
            /* The system is out of memory while Swift holds control: failing here would
             * longjmp across Swift frames. There is no safe way on. */
            fputs("runbook: out of memory\n", stderr);
            abort();
        }
        return NULL;
    }
    vm->used = vm->used - old + nsize;
    if (vm->used > vm->peak) vm->peak = vm->used;
    return block;
}

size_t rb_memory_headroom(lua_State *L) {
    rb_vm *vm = rb_vm_of(L);
    if (vm->cap == 0) return SIZE_MAX;
    return vm->used >= vm->cap ? 0 : vm->cap - vm->used;
}

void rb_trip_memory_from_host(lua_State *L) { rb_trip_memory(rb_vm_of(L)); }

static int rb_panic(lua_State *L) {
    const char *message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(no message)";
    fprintf(stderr, "runbook: unprotected Lua error: %s\n", message);
    abort();
    return 0;
}

lua_State *rb_newstate(rb_vm *vm) {
    lua_State *L = lua_newstate(rb_alloc, vm);
    if (L == NULL) return NULL;
    vm->L = L;
    lua_atpanic(L, rb_panic);
    return L;
}

int rb_cpcall(lua_State *L, lua_CFunction f, void *argument, int nresults) {
    lua_pushcfunction(L, f);
    lua_pushlightuserdata(L, argument);
    return lua_pcall(L, 1, nresults, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* limits                                                                                      */

/* Writes "source:line:" of the innermost Lua function with a line, from stack level `first` up,
 * or "" when none. Chunks the host loads under a "=" name (the runbook prelude) are passed over
 * while a script's own line is further out: an error inside `incident.list`'s iterator names the
 * script's `for` line, not the prelude's. */
static void rb_where_from(lua_State *L, int first, char *buffer, size_t size) {
    lua_Debug ar;
    buffer[0] = '\0';
    for (int level = first; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            /* run(source:chunkName:) names chunks "@" + name: the prelude is "@=runbook prelude" */
            int host = ar.source != NULL && (ar.source[0] == '=' || (ar.source[0] == '@' && ar.source[1] == '='));
            if (host && buffer[0] != '\0') continue;
            snprintf(buffer, size, "%s:%d:", ar.short_src, ar.currentline);
            if (!host) return;
        }
    }
}

static void rb_lua_where(lua_State *L, char *buffer, size_t size) { rb_where_from(L, 0, buffer, size); }

/* Writes the tripped limit's message, located at L's innermost Lua line. */
static void rb_format_fatal(lua_State *L, rb_vm *vm) {
    char where[256];
    rb_lua_where(L, where, sizeof where);
    const char *text = vm->tripped == RB_TRIP_TIMEOUT ? vm->timeout_text
                       : vm->tripped == RB_TRIP_INTERRUPT ? vm->interrupt_text
                       : vm->memory_text;
    snprintf(vm->fatal, sizeof vm->fatal, "%s%s%s", where, where[0] ? " " : "", text);
}

/* Raises the error of the tripped limit; the first raise fixes its location for good. */
static int rb_raise_fatal(lua_State *L) {
    rb_vm *vm = rb_vm_of(L);
    if (vm->fatal[0] == '\0') rb_format_fatal(L, vm);
    lua_pushstring(L, vm->fatal);
    return lua_error(L);
}

static int rb_check_interrupt(rb_vm *vm);

void rb_request_interrupt(rb_vm *vm) {
    __atomic_store_n(&vm->interrupt_requested, 1, __ATOMIC_SEQ_CST);
}

static void rb_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (rb_check_interrupt(rb_vm_of(L))) rb_raise_fatal(L);
}

/* Continuation of rb_guard: after the guarded function returns (or resumes after a yield),
 * a tripped limit is raised again so that no pcall, resume or load can swallow it. */
static int rb_guard_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    (void)ctx;
    if (rb_vm_of(L)->tripped != RB_TRIP_NONE) return rb_raise_fatal(L);
    return lua_gettop(L);
}

/* Calls upvalue 1 with all arguments and returns all its results (see rb_guard_k). */
static int rb_guard(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, rb_guard_k);
    return rb_guard_k(L, LUA_OK, 0);
}

/* The message handler given to xpcall, wrapped. When an error comes from the hook, Lua runs
 * the handler with hooks disabled, so a handler that loops would never stop: once a limit has
 * tripped, the script's handler is not called at all. */
static int rb_handler_guard(lua_State *L) {
    rb_vm *vm = rb_vm_of(L);
    if (vm->tripped != RB_TRIP_NONE) {
        if (vm->fatal[0] == '\0') rb_format_fatal(L, vm);
        lua_pushstring(L, vm->fatal);
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* xpcall(f, handler, ...) with the handler guarded and the result guarded like pcall. */
static int rb_xpcall(lua_State *L) {
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, rb_handler_guard, 1);
    lua_replace(L, 2);
    return rb_guard(L);
}

/* ------------------------------------------------------------------------------------------ */
/* running scripts                                                                             */

static int rb_msgh(lua_State *L) {
    rb_vm *vm = rb_vm_of(L);
    char where[256];
    if (vm->tripped != RB_TRIP_NONE) {
        /* A memory error raised by Lua itself carries no location: report the limit. */
        if (vm->fatal[0] == '\0') rb_format_fatal(L, vm);
        lua_settop(L, 0);
        lua_pushstring(L, vm->fatal);
    }
    lua_settop(L, 1);
    rb_lua_where(L, where, sizeof where);
    lua_pushstring(L, where);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_WHERE);
    luaL_traceback(L, L, NULL, 1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_TRACEBACK);
    return 1;
}

int rb_load_text(lua_State *L, const char *bytes, size_t length, const char *chunkname) {
    /* A first line starting with '#' (a shebang such as "#!/usr/bin/env runbook run") is passed
     * over, as lua's own loadfile does; its newline stays, so line numbers are unchanged. */
    if (length > 0 && bytes[0] == '#') {
        const char *newline = memchr(bytes, '\n', length);
        size_t skipped = newline ? (size_t)(newline - bytes) : length;
        bytes += skipped;
        length -= skipped;
    }
    return luaL_loadbufferx(L, bytes, length, chunkname, "t");
}

int rb_pcall_script(lua_State *L, int nargs, int nresults) {
    rb_vm *vm = rb_vm_of(L);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_TRACEBACK);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_WHERE);
    int base = lua_gettop(L) - nargs; /* the function */
    lua_pushcfunction(L, rb_msgh);
    lua_insert(L, base);
    vm->running = 1;
    int status;
    if (vm->tripped != RB_TRIP_NONE) {
        /* A limit tripped while the host had control: run nothing more. */
        lua_settop(L, base);
        lua_pushcfunction(L, rb_raise_fatal);
        status = lua_pcall(L, 0, nresults, base);
    } else {
        status = lua_pcall(L, nargs, nresults, base);
    }
    vm->running = 0;
    lua_remove(L, base);
    return status;
}

void rb_push_last_traceback(lua_State *L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_TRACEBACK); }
void rb_push_last_where(lua_State *L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_WHERE); }

/* ------------------------------------------------------------------------------------------ */
/* Swift functions                                                                             */

/* Trips an interrupt requested from another thread, or the deadline once it has passed; true
 * when a limit has tripped. */
static int rb_check_interrupt(rb_vm *vm) {
    if (vm->tripped == RB_TRIP_NONE && __atomic_load_n(&vm->interrupt_requested, __ATOMIC_SEQ_CST)) {
        vm->tripped = RB_TRIP_INTERRUPT;
        vm->fatal[0] = '\0';
    }
    if (vm->tripped == RB_TRIP_NONE && vm->deadline_ns != 0 && rb_monotonic_ns() >= vm->deadline_ns) {
        vm->tripped = RB_TRIP_TIMEOUT;
        vm->fatal[0] = '\0';
    }
    return vm->tripped != RB_TRIP_NONE;
}

static int rb_trampoline(lua_State *L) {
    rb_vm *vm = rb_vm_of(L);
    /* An interrupt or the deadline stops the script before a host call starts and as soon as one
     * returns, not only at the next hook check: host calls are where the script acts on the
     * world, and a call the deadline cut short must not end in an error the script can catch. */
    if (rb_check_interrupt(vm)) return rb_raise_fatal(L);
    void **box = (void **)lua_touserdata(L, lua_upvalueindex(1));
    int saved = vm->running;
    vm->running = 0;
    int n = vm->dispatch(vm->host, L, *box);
    vm->running = saved;
    if (rb_check_interrupt(vm)) return rb_raise_fatal(L);
    if (n == RB_CALL_ERROR) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            char where[256];
            rb_where_from(L, 1, where, sizeof where);
            lua_pushfstring(L, "%s%s", where, where[0] ? " " : "");
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    if (n == RB_CALL_NOSTACK) return luaL_error(L, "stack overflow in a host function");
    return n;
}

static int rb_box_gc(lua_State *L) {
    void **box = (void **)lua_touserdata(L, 1);
    if (box != NULL && *box != NULL) {
        void *function = *box;
        *box = NULL;
        rb_vm_of(L)->release(function);
    }
    return 0;
}

void rb_push_swift_function(lua_State *L, void *function) {
    void **box = (void **)lua_newuserdatauv(L, sizeof(void *), 0);
    *box = function;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_BOX_MT);
    lua_setmetatable(L, -2);
    lua_pushcclosure(L, rb_trampoline, 1);
}

static int rb_describe(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    return 1;
}

void rb_set_error_description(lua_State *L) {
    /* stack: table, description */
    lua_pushcclosure(L, rb_describe, 1);   /* table, __tostring */
    lua_createtable(L, 0, 2);              /* table, __tostring, mt */
    lua_insert(L, -2);                     /* table, mt, __tostring */
    lua_pushliteral(L, "__tostring");
    lua_insert(L, -2);                     /* table, mt, "__tostring", fn */
    lua_rawset(L, -3);                     /* table, mt */
    lua_pushliteral(L, "__name");
    lua_pushliteral(L, "runbook.error");
    lua_rawset(L, -3);
    lua_setmetatable(L, -2);               /* table */
}

static int rb_tostring_protected(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

void rb_push_display_string(lua_State *L, int idx) {
    rb_vm *vm = rb_vm_of(L);
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, rb_tostring_protected);
    lua_pushvalue(L, idx);
    int saved = vm->running;
    vm->running = 1;
    int status = lua_pcall(L, 1, 1, 0);
    vm->running = saved;
    if (status != LUA_OK) {
        lua_pop(L, 1);
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, idx));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* values                                                                                      */

void *rb_null_sentinel(void) { return (void *)&NULL_SENTINEL; }

void rb_push_array_marker(lua_State *L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ARRAY_MT); }

int rb_has_array_marker(lua_State *L, int idx) {
    if (!lua_getmetatable(L, idx)) return 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ARRAY_MT);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

int rb_registry_size(lua_State *L) {
    int count = 0;
    lua_pushnil(L);
    while (lua_next(L, LUA_REGISTRYINDEX) != 0) {
        count++;
        lua_pop(L, 1);
    }
    return count;
}

/* ------------------------------------------------------------------------------------------ */
/* the script environment                                                                      */

static int rb_print(lua_State *L) {
    rb_vm *vm = rb_vm_of(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
    size_t length = 0;
    const char *line = lua_tolstring(L, -1, &length);
    if (vm->output != NULL) {
        vm->output(vm->host, line, length);
    } else {
        fwrite(line, 1, length, stdout);
        fflush(stdout);
    }
    return 0;
}

/* os.getenv answers only for the names the host allowed; every other name reads as unset. */
static int rb_getenv(lua_State *L) {
    size_t length = 0;
    const char *name = luaL_checklstring(L, 1, &length);
    if (strlen(name) != length) {
        lua_pushnil(L);
        return 1;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ALLOWED_ENV);
    lua_pushvalue(L, 1);
    if (lua_type(L, -2) != LUA_TTABLE || lua_rawget(L, -2) == LUA_TNIL) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, getenv(name));
    return 1;
}

static int rb_setmetatable(lua_State *L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not available in runbooks");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int rb_collectgarbage(lua_State *L) {
    static const char *const allowed[] = {"collect", "count", "step", "isrunning", NULL};
    luaL_checkoption(L, 1, "collect", allowed);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* load(chunk [, chunkname [, mode [, env]]]) for text chunks only, guarded like pcall. */
static int rb_load(lua_State *L) {
    const char *mode = luaL_optstring(L, 3, "t");
    if (strchr(mode, 'b') != NULL)
        return luaL_error(L, "binary chunks are not allowed in runbooks (load mode '%s')", mode);
    if (lua_gettop(L) < 3) lua_settop(L, 3);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    return rb_guard(L);
}

static int rb_require_failure(lua_State *L, const char *name, luaL_Buffer *tried) {
    luaL_pushresult(tried);
    return luaL_error(L, "module '%s' not found:%s", name, lua_tostring(L, -1));
}

/* require(name): registered modules, then name.lua (dots as '/') in the script's directory
 * and the RUNBOOK_PATH directories. Text Lua files only. */
static int rb_require(lua_State *L) {
    size_t length = 0;
    const char *name = luaL_checklstring(L, 1, &length);
    lua_settop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE); /* 2 */
    lua_pushvalue(L, 1);
    if (lua_rawget(L, 2) != LUA_TNIL) return 1;
    lua_pop(L, 1);

    int valid = length > 0 && name[0] != '.' && name[length - 1] != '.' && strlen(name) == length;
    for (size_t i = 0; valid && i < length; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || (c == '.' && name[i + 1] != '.');
        if (!ok) valid = 0;
    }
    if (!valid)
        return luaL_error(L, "invalid module name '%s': use letters, digits, '_', '-' and '.' between parts",
                          name);

    luaL_Buffer relative;
    luaL_buffinit(L, &relative);
    for (size_t i = 0; i < length; i++) luaL_addchar(&relative, name[i] == '.' ? '/' : name[i]);
    luaL_addstring(&relative, ".lua");
    luaL_pushresult(&relative); /* 3 */

    lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_SEARCH_PATH); /* 4 */
    const char *directories = lua_type(L, 4) == LUA_TSTRING ? lua_tostring(L, 4) : "";

    luaL_Buffer tried;
    luaL_buffinit(L, &tried);
    const char *cursor = directories;
    while (*cursor != '\0') {
        const char *end = strchr(cursor, ';');
        size_t size = end ? (size_t)(end - cursor) : strlen(cursor);
        if (size > 0) {
            lua_pushlstring(L, cursor, size);
            lua_pushliteral(L, "/");
            lua_pushvalue(L, 3);
            lua_concat(L, 3);
            const char *path = lua_tostring(L, -1);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                /* The file, links resolved, must lie inside the directory it was found in: a link
                 * to elsewhere (/proc/self/environ, a secret) is never loaded. */
                lua_pushlstring(L, cursor, size);
                char *root = realpath(lua_tostring(L, -1), NULL);
                lua_pop(L, 1);
                char *real = realpath(path, NULL);
                size_t root_length = root ? strlen(root) : 0;
                int inside = root != NULL && real != NULL && strncmp(real, root, root_length) == 0 &&
                             (real[root_length] == '/' || (root_length == 1 && root[0] == '/'));
                free(root);
                free(real);
                if (!inside)
                    return luaL_error(L, "module '%s': '%s' leads outside its directory (a symbolic link); not loaded",
                                      name, path);
                if (st.st_size > RB_MAX_SOURCE_SIZE)
                    return luaL_error(L, "module '%s': '%s' is larger than %d MiB; not loaded", name, path,
                                      RB_MAX_SOURCE_SIZE >> 20);
                /* drop the buffer's state: keep the path only */
                lua_replace(L, 5);
                lua_settop(L, 5);
                if (luaL_loadfilex(L, path, "t") != LUA_OK)
                    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name,
                                      lua_tostring(L, 5), lua_tostring(L, -1));
                lua_pushvalue(L, 1);
                lua_pushvalue(L, 5);
                lua_call(L, 2, 1); /* 6: the module's value */
                if (lua_isnil(L, 6)) {
                    lua_pop(L, 1);
                    lua_pushvalue(L, 1);
                    if (lua_rawget(L, 2) == LUA_TNIL) {
                        lua_pop(L, 1);
                        lua_pushboolean(L, 1);
                    }
                }
                lua_pushvalue(L, 1);
                lua_pushvalue(L, 6);
                lua_rawset(L, 2);
                lua_pushvalue(L, 6);
                lua_pushvalue(L, 5);
                return 2;
            }
            lua_pop(L, 1);
            /* the message lists what was tried */
            luaL_addstring(&tried, "\n\tno file '");
            luaL_addlstring(&tried, cursor, size);
            luaL_addchar(&tried, '/');
            luaL_addstring(&tried, lua_tostring(L, 3));
            luaL_addchar(&tried, '\'');
        }
        cursor = end ? end + 1 : cursor + size;
    }
    return rb_require_failure(L, name, &tried);
}

/* Sets t[name] = cclosure(f, upvalue = previous t[name]) for the table at index t. */
static void rb_wrap_field(lua_State *L, int t, const char *name, lua_CFunction f) {
    t = lua_absindex(L, t);
    lua_getfield(L, t, name);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, t, name);
}

static void rb_copy_field(lua_State *L, int from, int to, const char *name) {
    to = lua_absindex(L, to);
    lua_getfield(L, from, name);
    lua_setfield(L, to, name);
}

/* Makes the table on top module `name`, global and loaded. Pops it. */
static void rb_publish(lua_State *L, const char *name) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
    lua_setglobal(L, name);
}

int rb_open_environment(lua_State *L) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    int g = lua_gettop(L);

    /* base: drop file access and warnings; guard everything that catches errors */
    static const char *const removed[] = {"dofile", "loadfile", "warn", NULL};
    for (int i = 0; removed[i] != NULL; i++) {
        lua_pushnil(L);
        lua_setfield(L, g, removed[i]);
    }
    rb_wrap_field(L, g, "pcall", rb_guard);
    rb_wrap_field(L, g, "xpcall", rb_xpcall);
    rb_wrap_field(L, g, "load", rb_load);
    rb_wrap_field(L, g, "setmetatable", rb_setmetatable);
    rb_wrap_field(L, g, "collectgarbage", rb_collectgarbage);
    lua_pushcfunction(L, rb_print);
    lua_setfield(L, g, "print");
    lua_pushcfunction(L, rb_require);
    lua_setfield(L, g, "require");

    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    rb_wrap_field(L, -1, "resume", rb_guard);
    rb_wrap_field(L, -1, "close", rb_guard);
    lua_pop(L, 1);

    /* os: clock and dates, and a getenv that answers only for allowed names */
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    int full_os = lua_gettop(L);
    lua_createtable(L, 0, 5);
    rb_copy_field(L, full_os, -1, "time");
    rb_copy_field(L, full_os, -1, "date");
    rb_copy_field(L, full_os, -1, "clock");
    rb_copy_field(L, full_os, -1, "difftime");
    lua_pushcfunction(L, rb_getenv);
    lua_setfield(L, -2, "getenv");
    rb_publish(L, LUA_OSLIBNAME);
    lua_pop(L, 1);

    /* debug: tracebacks only */
    luaL_requiref(L, LUA_DBLIBNAME, luaopen_debug, 0);
    int full_debug = lua_gettop(L);
    lua_createtable(L, 0, 1);
    rb_copy_field(L, full_debug, -1, "traceback");
    rb_publish(L, LUA_DBLIBNAME);
    lua_pop(L, 1);

    /* the host's own tables */
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, rb_box_gc);
    lua_setfield(L, -2, "__gc");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_BOX_MT);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__name");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_ARRAY_MT);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_ALLOWED_ENV);

    lua_sethook(L, rb_hook, LUA_MASKCOUNT, RB_HOOK_COUNT);
    lua_settop(L, 0);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* configuration from the host                                                                 */

void rb_install_module(lua_State *L, const char *name, int as_global) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); /* t, G */
    lua_pushliteral(L, LUA_LOADED_TABLE);
    lua_rawget(L, LUA_REGISTRYINDEX);                     /* t, G, loaded */
    lua_pushstring(L, name);
    lua_pushvalue(L, -4);
    lua_rawset(L, -3);
    lua_pop(L, 1);                                        /* t, G */
    if (as_global) {
        lua_pushstring(L, name);
        lua_pushvalue(L, -3);
        lua_rawset(L, -3);
    }
    lua_pop(L, 2);
}

void rb_remove_module(lua_State *L, const char *name) {
    lua_pushliteral(L, LUA_LOADED_TABLE);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushstring(L, name);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void rb_set_search_path(lua_State *L, const char *directories) {
    lua_pushstring(L, directories);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_SEARCH_PATH);
}

void rb_allow_environment_variable(lua_State *L, const char *name) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ALLOWED_ENV);
    lua_pushstring(L, name);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}
