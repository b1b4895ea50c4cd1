// The demo's Mach ports part (ports_tour.cpp).
#ifndef MACHIO_DEMO_PORTS_TOUR_HPP
#define MACHIO_DEMO_PORTS_TOUR_HPP

#include <machio/mach.h>

// Sections 10-12 on the open device (its blocks of `block` bytes): how many
// things went wrong.
int ports_tour(mach_port_t device, unsigned block);

#endif
