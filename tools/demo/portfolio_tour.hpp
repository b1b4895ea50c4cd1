// The demo's Portfolio half (portfolio_tour.cpp).
#ifndef MACHIO_DEMO_PORTFOLIO_TOUR_HPP
#define MACHIO_DEMO_PORTFOLIO_TOUR_HPP

// Sections 7-9 on device (a name under /dev or a path): how many things
// went wrong.
int portfolio_tour(const char* device);

#endif
