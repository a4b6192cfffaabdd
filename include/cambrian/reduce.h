/* Part of cambrian.h: reductions. Include cambrian.h, not this file. */
#ifndef CAMBRIAN_REDUCE_H
#define CAMBRIAN_REDUCE_H
#endif
