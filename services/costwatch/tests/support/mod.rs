pub mod distributed;
