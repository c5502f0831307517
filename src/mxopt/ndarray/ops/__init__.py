"""MXNet's update operators as eager torch code: the readable reference for every rule."""
