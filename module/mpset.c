// SPDX-License-Identifier: GPL-2.0
/*
 * Mach port sets: a name that receives from its member ports.  A set is
 * made by mach_port_allocate(MACH_PORT_RIGHT_PORT_SET) and destroyed
 * with its name.
 */
#include <linux/slab.h>
#include "machio.h"

static void machio_mpset_free(struct machio_port *port)
{
	kfree(container_of(port, struct machio_mpset, port));
}

struct machio_mpset *machio_mpset_create(void)
{
	struct machio_mpset *set = kzalloc(sizeof(*set), MACHIO_GFP);

	if (!set)
		return NULL;
	machio_port_init(&set->port, MACHIO_KIND_PSET, machio_mpset_free);
	set->active = true;
	return set;
}

void machio_mpset_destroy(struct machio_mpset *set)
{
	WRITE_ONCE(set->active, false);
}
