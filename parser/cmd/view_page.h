/*
 * view_page.h - the page `weft view` writes, built from cmd/view/ at
 * build time (embed.py): everything before the data, and after it.
 */
#ifndef WEFT_VIEW_PAGE_H
#define WEFT_VIEW_PAGE_H

#include <stddef.h>

extern const unsigned char weft_view_page_head[];
extern const size_t weft_view_page_head_len;
extern const unsigned char weft_view_page_tail[];
extern const size_t weft_view_page_tail_len;

#endif
