/* Marks the symbols libpctx-bpf exports; everything else stays hidden. */
#ifndef PCTX_EXPORT_H
#define PCTX_EXPORT_H

#define PCTX_API __attribute__((visibility("default")))

#endif /* PCTX_EXPORT_H */
