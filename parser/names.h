/*
 * names.h - the one name every command shows for a synchronization
 * object (lock, condvar, semaphore, barrier).
 */
#ifndef WEFT_NAMES_H
#define WEFT_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "tables.h"

/* The object at addr, for people (shown after its kind: "mutex qm"): the
 * variable holding it ("qm", "pool.lock", "table+0x40"), else the code
 * that created it, else that which first waited on it or took it ("from
 * queue_init (queue.c:31)"), else its address ("0x5581c0a02040").  No two
 * objects of a trace get one name: sites in one function add the next
 * frame beyond the frames they share ("from lock_new < open_db"), then
 * " #1", " #2"... in the order the sites were seen. */
void weft_object_name(const struct weft_tables *t, uint64_t addr, char *buf,
		      size_t cap);
/* The room every name fits in (and stays unique in), its 0 included. */
#define WEFT_NAME_MAX 160

/* Whether filter names the object at addr: its address in hex (with or
 * without 0x), its name, or the start of its name up to a member, an
 * index, an offset or a word ("pool" for pool.lock), or for an object
 * named by its site, the site's function ("queue_init"). */
int weft_object_named(const struct weft_tables *t, uint64_t addr,
		      const char *filter);
/* The same test, given the object's name. */
int weft_name_selects(const char *name, uint64_t addr, const char *filter);

#endif
