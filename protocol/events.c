#include "ganglion/events.h"
#include "ganglion/error.h"

#include <string.h>

const gn_value_t *gn_value_field(const gn_metadata_t *md, const gn_value_t *v, const char *name)
{
    const gn_field_t *fields = NULL;
    const gn_value_t *items = NULL;
    uint32_t n = 0;
    if (v->kind == GN_VALUE_VARIANT) {
        fields = v->u.var.variant->fields;
        items = v->u.var.fields;
        n = v->u.var.n;
    } else if (v->kind == GN_VALUE_COMPOSITE) {
        const gn_type_t *t = gn_metadata_type(md, v->type);
        if (!t || t->kind != GN_TYPE_COMPOSITE)
            return NULL;
        fields = t->def.composite.fields;
        items = v->u.seq.items;
        n = v->u.seq.n;
    }
    for (uint32_t i = 0; i < n; i++)
        if (fields[i].name && strcmp(fields[i].name, name) == 0)
            return &items[i];
    return NULL;
}

static uint32_t num_u32(const gn_value_t *v)
{
    uint32_t x = 0;
    for (int i = v->u.num.width < 4 ? v->u.num.width - 1 : 3; i >= 0; i--)
        x = x << 8 | v->u.num.le[i];
    return x;
}

int gn_events_decode(const gn_metadata_t *md, const uint8_t *bytes, size_t len, gn_arena_t *ar,
                     gn_event_t **events, size_t *n)
{
    const gn_storage_entry_t *e = gn_metadata_storage(md, "System", "Events");
    if (!e)
        return GN_ENOENT;
    gn_value_t *all = gn_arena_calloc(ar, 1, sizeof(*all));
    if (!all)
        return GN_ENOMEM;
    int rc = gn_value_decode_all(md, e->value_type, bytes, len, ar, all);
    if (rc < 0)
        return rc;
    if (all->kind != GN_VALUE_SEQUENCE)
        return GN_EUNSUPPORTED;
    gn_event_t *out = gn_arena_calloc(ar, all->u.seq.n ? all->u.seq.n : 1, sizeof(*out));
    if (!out)
        return GN_ENOMEM;
    for (uint32_t i = 0; i < all->u.seq.n; i++) {
        const gn_value_t *rec = &all->u.seq.items[i];
        const gn_value_t *phase = gn_value_field(md, rec, "phase");
        const gn_value_t *event = gn_value_field(md, rec, "event");
        out[i].topics = gn_value_field(md, rec, "topics");
        if (!phase || !event || phase->kind != GN_VALUE_VARIANT || event->kind != GN_VALUE_VARIANT)
            return GN_EUNSUPPORTED;
        const char *ph = phase->u.var.variant->name;
        out[i].phase = !strcmp(ph, "ApplyExtrinsic") ? GN_PHASE_APPLY_EXTRINSIC
                       : !strcmp(ph, "Finalization") ? GN_PHASE_FINALIZATION
                                                     : GN_PHASE_INITIALIZATION;
        if (out[i].phase == GN_PHASE_APPLY_EXTRINSIC && phase->u.var.n == 1 &&
            phase->u.var.fields[0].kind == GN_VALUE_UINT)
            out[i].extrinsic_index = num_u32(&phase->u.var.fields[0]);
        /* RuntimeEvent: pallet variant (its index is the pallet's) → the event */
        out[i].pallet = md->by_pallet_index[event->u.var.variant->index];
        if (event->u.var.n == 1 && event->u.var.fields[0].kind == GN_VALUE_VARIANT) {
            out[i].fields = &event->u.var.fields[0];
            out[i].event = out[i].fields->u.var.variant;
        }
    }
    *events = out;
    *n = all->u.seq.n;
    return 0;
}

int gn_dispatch_error(const gn_metadata_t *md, const gn_value_t *err, gn_dispatch_error_t *out)
{
    memset(out, 0, sizeof(*out));
    if (err->kind != GN_VALUE_VARIANT)
        return GN_EINVAL;
    out->kind = out->name = err->u.var.variant->name;
    if (strcmp(out->kind, "Module") != 0) {
        /* Token(FundsUnavailable), Arithmetic(Underflow)...: the inner name */
        if (err->u.var.n == 1 && err->u.var.fields[0].kind == GN_VALUE_VARIANT) {
            out->name = err->u.var.fields[0].u.var.variant->name;
            out->docs = err->u.var.fields[0].u.var.variant->docs;
        }
        return 0;
    }
    /* Module(ModuleError { index: u8, error: [u8; 4] }) (older: error: u8) */
    if (err->u.var.n != 1)
        return GN_EUNSUPPORTED;
    const gn_value_t *me = &err->u.var.fields[0];
    const gn_value_t *idx = gn_value_field(md, me, "index");
    const gn_value_t *code = gn_value_field(md, me, "error");
    if (!idx || !code || idx->kind != GN_VALUE_UINT)
        return GN_EUNSUPPORTED;
    uint8_t e0;
    if (code->kind == GN_VALUE_BYTES && code->u.bytes.n >= 1)
        e0 = code->u.bytes.p[0];
    else if (code->kind == GN_VALUE_UINT)
        e0 = code->u.num.le[0];
    else
        return GN_EUNSUPPORTED;
    const gn_pallet_t *p = md->by_pallet_index[idx->u.num.le[0]];
    if (!p)
        return GN_ENOENT;
    out->pallet = p->name;
    out->name = "?";
    if (p->has_errors) {
        const gn_variant_t *v = gn_type_variant_by_index(gn_metadata_type(md, p->error_type), e0);
        if (v) {
            out->name = v->name;
            out->docs = v->docs;
        }
    }
    return 0;
}
